// The client where things go wrong, against real brokers: refused logins (every CONNACK code), will on abrupt
// close, persistent sessions, broker restarts in the middle of QoS 1 and QoS 2 streams, a dead link, oversize packets.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createServer } from "node:net";
import { Aedes } from "aedes";
import { MQTTClient, ErrorCode, type MQTTError } from "../src/mqtt/client";
import { setDefaultBoard } from "../hosts/node/board.ts";
import { Device } from "../sim/board/device.ts";
import { VirtualClock } from "../sim/board/clock.ts";
import { Mosquitto, freePort } from "../sim/brokers/mosquitto.ts";
import { BrokerProxy } from "../sim/brokers/proxy.ts";
import { until, sleep } from "./support/wait.ts";

const cleanup: Array<() => unknown> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

type Options = ConstructorParameters<typeof MQTTClient>[0];
function make(port: number, id: string, extra: Partial<Options> = {}): MQTTClient {
  const c = new MQTTClient({ host: "127.0.0.1", port, clientId: id, keepalive: 30, rxBuffer: 1024, txBuffer: 1024, inflight: 16, inflightIn: 32, queue: 16384,
    reconnect: { min: 50, max: 300 }, ...extra });
  cleanup.push(() => c.close());
  return c;
}

async function aedesBroker(authenticate?: (user: string | undefined) => number): Promise<number> {
  const broker = await Aedes.createBroker();
  if (authenticate) {
    broker.authenticate = (_client: any, username: any, _password: any, done: any) => {
      const code = authenticate(username);
      if (code === 0) return done(null, true);
      const err: any = new Error("refused");
      err.returnCode = code;
      done(err, false);
    };
  }
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanup.push(() => new Promise<void>((r) => { broker.close(() => server.close(() => r())); }));
  return (server.address() as { port: number }).port;
}

async function refusedWith(port: number, extra: Partial<Options>): Promise<MQTTError> {
  const errors: MQTTError[] = [];
  const c = make(port, extra.clientId ?? "refused", { reconnect: false, ...extra });
  c.onError = (e) => errors.push(e);
  await until("a refusal", () => errors.length > 0);
  expect(c.connected).toBe(false);
  return errors[0];
}

describe("refused connections", () => {
  it("mosquitto with password auth: right password connects, wrong one is refused with CONNACK 5", async () => {
    const m = await Mosquitto.start({ users: { maker: "s3cret" } });
    cleanup.push(() => m.close());
    const ok = make(m.port, "auth-ok", { username: "maker", password: "s3cret" });
    await until("connected", () => ok.connected);
    const e = await refusedWith(m.port, { clientId: "auth-bad", username: "maker", password: "wrong" });
    expect(e.code).toBe(ErrorCode.ConnectionRefused);
    expect(e.reasonCode).toBe(5);
    expect(e.message).toMatch(/CONNACK 5: not authorized/);
    const anon = await refusedWith(m.port, { clientId: "auth-anon" });
    expect(anon.reasonCode).toBe(5);
  });

  it("reports CONNACK codes 2, 3, 4 and 5 from aedes with their meaning", async () => {
    const port = await aedesBroker((user) => Number(user));
    const meanings: Record<number, RegExp> = { 2: /identifier rejected/, 3: /server unavailable/, 4: /bad user name or password/, 5: /not authorized/ };
    for (const code of [2, 3, 4, 5]) {
      const e = await refusedWith(port, { clientId: `code-${code}`, username: String(code) });
      expect(e.code).toBe(ErrorCode.ConnectionRefused);
      expect(e.reasonCode).toBe(code);
      expect(e.message).toMatch(meanings[code]);
    }
  });

  it("reports CONNACK 1 (unacceptable protocol version) from a server that only speaks another version", async () => {
    const server = createServer((s) => { s.once("data", () => s.write(Buffer.from([0x20, 2, 0, 1]))); });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const e = await refusedWith((server.address() as any).port, { clientId: "v1" });
    expect(e.reasonCode).toBe(1);
    expect(e.message).toMatch(/unacceptable protocol version/);
  });
});

describe("sessions and wills (mosquitto)", () => {
  it("publishes the will when the client vanishes without DISCONNECT, and not after close()", async () => {
    const m = await Mosquitto.start();
    cleanup.push(() => m.close());
    const watcher = make(m.port, "will-watch");
    const wills: string[] = [];
    watcher.subscribe("dev/+/status", 1, (msg) => wills.push(`${msg.topic}=${msg.text}`));
    await until("watcher subscribed", () => watcher.connected);
    await sleep(100);
    const device = new Device({ id: "will-device" });
    const victim = device.run(() => make(m.port, "will-victim", { reconnect: false, will: { topic: "dev/victim/status", payload: "offline", qos: 1 } }));
    const polite = make(m.port, "will-polite", { will: { topic: "dev/polite/status", payload: "offline", qos: 1 } });
    await until("both connected", () => victim.connected && polite.connected);
    polite.close();
    device.network.killConnections(); // the board loses power: a reset, no DISCONNECT
    await until("will delivered", () => wills.length >= 1);
    await sleep(200);
    expect(wills).toEqual(["dev/victim/status=offline"]);
  });

  it("a persistent session receives the QoS 1 messages published while it was offline", async () => {
    const m = await Mosquitto.start();
    cleanup.push(() => m.close());
    const first = make(m.port, "persistent-1", { cleanSession: false });
    let subscribed = false;
    first.onSubscribe = () => { subscribed = true; };
    first.subscribe("inbox/#", 1);
    await until("SUBACK", () => subscribed);
    first.close(); // device goes to sleep
    const pub = make(m.port, "persistent-pub");
    await until("publisher connected", () => pub.connected);
    for (let i = 0; i < 20; i++) pub.publish("inbox/a", `offline-${i}`, 1);
    await until("published", () => pub.session.inflight.count === 0);
    const again = make(m.port, "persistent-1", { cleanSession: false });
    const got: string[] = [];
    let present: boolean | undefined;
    again.onConnect = (p) => { present = p; };
    again.onMessage = (msg) => got.push(msg.text);
    await until("20 queued messages", () => got.length === 20);
    expect(present).toBe(true);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `offline-${i}`));
  });
});

describe("broker restarted in the middle of a stream (mosquitto with persistence)", () => {
  for (const qos of [1, 2] as const) {
    it(`QoS ${qos}: every message arrives${qos === 2 ? " exactly once" : ""}`, async () => {
      const m = await Mosquitto.start({ persistence: true });
      cleanup.push(() => m.close());
      const counts = new Map<number, number>();
      const sub = make(m.port, `stream-sub-${qos}`, { cleanSession: false });
      let subscribed = false;
      sub.onSubscribe = () => { subscribed = true; };
      sub.subscribe(`stream/${qos}`, qos, (msg) => { const n = msg.number; counts.set(n, (counts.get(n) ?? 0) + 1); });
      await until("SUBACK", () => subscribed);
      const pub = make(m.port, `stream-pub-${qos}`, { cleanSession: false });
      await until("publisher connected", () => pub.connected);
      const total = 400;
      let sent = 0;
      let restarted = false;
      while (sent < total) {
        // Publish in bursts so some are in flight when the broker goes away.
        for (let k = 0; k < 20 && sent < total; k++) pub.publish(`stream/${qos}`, sent++, qos);
        await sleep(2);
        if (!restarted && sent >= total / 2) { restarted = true; await m.restart(); }
      }
      await until(`all ${total} messages`, () => counts.size === total, 20000).catch((e) => { throw new Error(`${e.message}: got ${counts.size}, pub inflight ${pub.session.inflight.count} outbox ${pub.session.outbox.count} state ${pub.state}/${sub.state} reconnects ${pub.reconnects}/${sub.reconnects}; broker log: ${m.log}`); });
      await until("publisher drained", () => pub.session.inflight.count === 0 && pub.session.outbox.count === 0, 10000);
      expect(pub.reconnects).toBeGreaterThan(0);
      for (let i = 0; i < total; i++) expect(counts.get(i), `message ${i}`).toBeGreaterThanOrEqual(1);
      if (qos === 2) expect([...counts.entries()].filter(([, c]) => c !== 1)).toEqual([]);
    }, 40000);
  }
});

describe("dead link and oversize packets", () => {
  it("detects a broker that stops answering within 1.5 x keepalive (simulated time)", async () => {
    const m = await Mosquitto.start();
    cleanup.push(() => m.close());
    const proxy = await BrokerProxy.start(m.port);
    cleanup.push(() => proxy.close());
    const clock = new VirtualClock();
    const device = new Device({ id: "dead-link", clock });
    const errors: MQTTError[] = [];
    const c = device.run(() => make(proxy.port, "dead-link", { keepalive: 10, reconnect: false }));
    c.onError = (e) => errors.push(e);
    await until("connected", () => c.connected);
    // Healthy: pings are answered, the connection survives several keepalive periods.
    for (let t = 0; t < 35_000; t += 250) { clock.advance(250); await sleep(1); }
    expect(errors).toEqual([]);
    expect(c.connected).toBe(true);
    proxy.stalled = true;
    const stalledAt = clock.now();
    while (errors.length === 0 && clock.now() - stalledAt < 30_000) { clock.advance(100); await sleep(1); }
    expect(errors[0]?.code).toBe(ErrorCode.PingTimeout);
    expect(clock.now() - stalledAt).toBeLessThanOrEqual(15_000);
    expect(c.connected).toBe(false);
  });

  it("skips a packet bigger than rxBuffer with an error and keeps going on the same connection", async () => {
    const m = await Mosquitto.start();
    cleanup.push(() => m.close());
    const sub = make(m.port, "small-rx", { rxBuffer: 128 });
    const errors: MQTTError[] = [];
    const got: string[] = [];
    let closed = 0, subscribed = false;
    sub.onError = (e) => errors.push(e);
    sub.onClose = () => closed++;
    sub.onSubscribe = () => { subscribed = true; };
    sub.subscribe("big/#", 1, (msg) => got.push(msg.text));
    await until("SUBACK", () => subscribed);
    const pub = make(m.port, "big-pub", { txBuffer: 4096 });
    await until("publisher connected", () => pub.connected);
    pub.publish("big/one", "x".repeat(1000), 1);
    pub.publish("big/two", "small", 1);
    await until("the small message", () => got.length === 1);
    expect(got).toEqual(["small"]);
    expect(errors.map((e) => e.code)).toEqual([ErrorCode.PacketTooLarge]);
    expect(errors[0].message).toMatch(/rxBuffer 128/);
    expect(closed).toBe(0);
    await sleep(300); // the oversize QoS 1 message was acknowledged: the broker does not send it again
    expect(errors.length).toBe(1);
  });

  it("refuses a publish bigger than txBuffer with a clear error and loses nothing queued", async () => {
    const c = make(await freePort(), "tx-small", { txBuffer: 64, connect: false });
    expect(() => c.publish("a/b", "y".repeat(100), 1)).toThrow(/exceeds txBuffer 64; raise txBuffer/);
    expect(() => c.publish("a/+", "x", 0)).toThrow(/not a topic name/);
    expect(() => c.publish("a/b", NaN, 0)).toThrow(/not a finite number/);
    expect(c.publish("a/b", "fits", 1)).toBeGreaterThan(0);
    expect(c.session.inflight.count).toBe(1);
  });
});
