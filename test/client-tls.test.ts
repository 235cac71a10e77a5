// The client over TLS (src/net/tls-transport.ts on the simulator's `securesocket`) against mosquitto listening with
// a CA and certificates made here with openssl: QoS 0/1/2 round trips, the password never in clear on the wire,
// the CA from a DER or PEM resource, and each way a handshake fails with the error text the application gets.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, rmSync } from "node:fs";
import tls from "node:tls";
import { MQTTClient, type Message, type MQTTError } from "../src/mqtt/client";
import { TlsTransport, type TlsOptions, pemToDer } from "../src/net/tls-transport";
import { AdafruitIO } from "../src/feeds/adafruit-io";
import { Device } from "../sim/board/device.ts";
import { TestCA, mosquittoTlsListener, type BrokerCertificate } from "../sim/brokers/tls-certs.ts";
import { setResource } from "../hosts/node/modules/resource.ts";
import { startAioBroker } from "../sim/aio/broker.ts";
import { Mosquitto, freePort } from "../sim/brokers/mosquitto.ts";
import { until } from "./support/wait.ts";

type Options = ConstructorParameters<typeof MQTTClient>[0];

let ca: TestCA, otherCA: TestCA;
let good: BrokerCertificate;
let broker: Mosquitto;
/** TLS listeners of `broker`, by what their certificate (or version) is. */
const port: Record<"good" | "expired" | "wrongName" | "unknownCA" | "tls13" | "authGood", number> = {
  good: 0, expired: 0, wrongName: 0, unknownCA: 0, tls13: 0, authGood: 0,
};
const cleanup: Array<() => unknown> = [];

beforeAll(async () => {
  ca = new TestCA();
  otherCA = new TestCA("some other CA");
  good = ca.issue("good");
  for (const k of Object.keys(port) as (keyof typeof port)[]) port[k] = await freePort();
  broker = await Mosquitto.start({
    config: [
      ...mosquittoTlsListener(port.good, ca, good),
      ...mosquittoTlsListener(port.expired, ca, ca.issue("expired", { expired: true })),
      ...mosquittoTlsListener(port.wrongName, ca, ca.issue("elsewhere", { dns: ["broker.example"], ips: [] })),
      ...mosquittoTlsListener(port.unknownCA, otherCA, otherCA.issue("other")),
      ...mosquittoTlsListener(port.tls13, ca, good, "tlsv1.3"),
    ],
  });
  setResource("broker-ca.der", ca.der);
  setResource("broker-ca.pem", Buffer.from(ca.pem));
}, 60_000);
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });
afterAll(async () => {
  await broker?.close();
  setResource("broker-ca.der", undefined);
  setResource("broker-ca.pem", undefined);
  for (const c of [ca, otherCA]) if (c) rmSync(c.dir, { recursive: true, force: true });
});

interface Side { c: MQTTClient; device: Device; traces: string[]; errors: MQTTError[]; closes: (MQTTError | undefined)[] }

/** A client on its own device over TLS (the test CA by default). */
function client(id: string, p: number, tlsOptions: TlsOptions = { ca: "broker-ca.der" }, extra: Partial<Options> = {}): Side {
  const traces: string[] = [];
  const device = new Device({ id, trace: (t) => traces.push(t) });
  const side = device.run(() => {
    const c = new MQTTClient({
      host: "127.0.0.1", port: p, clientId: id, keepalive: 30, rxBuffer: 4096, txBuffer: 4096, inflight: 16, inflightIn: 32, queue: 400_000,
      reconnect: false, transport: new TlsTransport(tlsOptions), ...extra,
    });
    return { c, device, traces, errors: [] as MQTTError[], closes: [] as (MQTTError | undefined)[] };
  });
  side.c.onError = (e) => side.errors.push(e);
  side.c.onClose = (e) => side.closes.push(e);
  cleanup.push(() => device.run(() => side.c.close()));
  return side;
}

function payload(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k * 7) & 255;
  return b;
}

describe("MQTT over TLS with mosquitto", () => {
  for (const qos of [0, 1, 2] as const) {
    for (const size of [16, 3000]) {
      it(`round-trips 100 QoS ${qos} messages of ${size} B in order, byte for byte`, async () => {
        const sub = client(`tls-sub-${qos}-${size}`, port.good).c;
        const pubSide = client(`tls-pub-${qos}-${size}`, port.good);
        const pub = pubSide.c;
        const got: Uint8Array[] = [];
        let subscribed = false;
        sub.onSubscribe = (_f, granted) => { subscribed = granted === qos; };
        sub.subscribe(`tls/q${qos}/${size}`, qos, (m: Message) => {
          const copy = new Uint8Array(m.length);
          for (let k = 0; k < m.length; k++) copy[k] = m.byte(k);
          got.push(copy);
        });
        await until("SUBACK", () => subscribed);
        await until("publisher connected", () => pub.connected);
        const delivered: number[] = [];
        pub.onDelivered = (id) => delivered.push(id);
        for (let i = 0; i < 100; i++) expect(pubSide.device.run(() => pub.publish(`tls/q${qos}/${size}`, payload(i, size), qos))).toBeGreaterThanOrEqual(0);
        await until("all messages", () => got.length >= 100, 15000);
        expect(got.findIndex((g, i) => Buffer.compare(g, payload(i, size)) !== 0)).toBe(-1);
        expect(got.length).toBe(100);
        if (qos > 0) await until("all acknowledged", () => delivered.length === 100);
        expect(pubSide.errors).toEqual([]);
      });
    }
  }

  it("sends the password (an Adafruit IO key) only inside TLS records: it never appears on the wire", async () => {
    const tlsPort = await freePort();
    const m = await Mosquitto.start({ users: { aiouser: "aio_SECRETKEY123" }, config: mosquittoTlsListener(tlsPort, ca, good) });
    cleanup.push(() => m.close());
    const side = client("tls-auth", tlsPort, { ca: "broker-ca.der" }, { username: "aiouser", password: "aio_SECRETKEY123" });
    const wire: Buffer[] = [];
    side.device.network.sniffer = (_endpoint, bytes) => { wire.push(Buffer.from(bytes)); };
    await until("connected with the password", () => side.c.connected);
    const sent = Buffer.concat(wire);
    expect(sent[0], "the first bytes are a TLS handshake record").toBe(0x16);
    expect(sent.includes("aio_SECRETKEY123")).toBe(false);
    expect(sent.includes("MQTT")).toBe(false);
    // The same login over plain TCP does show it: the check above can fail.
    const plain = new Device({ id: "plain-auth", trace: () => {} });
    const clear: Buffer[] = [];
    plain.network.sniffer = (_e, bytes) => { clear.push(Buffer.from(bytes)); };
    const c = plain.run(() => new MQTTClient({ host: "127.0.0.1", port: m.port, clientId: "plain-auth", username: "aiouser", password: "aio_SECRETKEY123", reconnect: false }));
    cleanup.push(() => plain.run(() => c.close()));
    await until("plain client connected", () => c.connected);
    expect(Buffer.concat(clear).includes("aio_SECRETKEY123")).toBe(true);
  });

  it("AdafruitIO with a key goes over TLS: a feed value arrives and the key stays off the wire", async () => {
    const device = new Device({ id: "aio-tls", trace: () => {} });
    const wire: Buffer[] = [];
    device.network.sniffer = (_e, bytes) => { wire.push(Buffer.from(bytes)); };
    const io = device.run(() => new AdafruitIO({ user: "alice", key: "aio_FEEDKEY42", host: "127.0.0.1", port: port.good, clientId: "aio-tls",
      secure: { ca: "broker-ca.pem" }, rate: false }));
    cleanup.push(() => device.run(() => io.close()));
    const got: number[] = [];
    io.feed("temp").onNumber((n) => got.push(n));
    await until("AdafruitIO connected over TLS", () => io.client.connected);
    device.run(() => io.feed("temp").publish(21.5));
    await until("the value came back", () => got.includes(21.5));
    expect(Buffer.concat(wire).includes("aio_FEEDKEY42")).toBe(false);
  });

  it("the local Adafruit IO emulator listens with TLS too: AdafruitIO over TLS (secure: {ca}) stores a value there", async () => {
    const aio = await startAioBroker({ users: { bob: "aio_BOBKEY" }, tls: true, timeTopics: false });
    cleanup.push(() => aio.close());
    setResource("aio-ca.der", aio.tls!.caDer);
    cleanup.push(() => setResource("aio-ca.der", undefined));
    const device = new Device({ id: "aio-emulator-tls", trace: () => {} });
    const io = device.run(() => new AdafruitIO({ user: "bob", key: "aio_BOBKEY", host: "127.0.0.1", port: aio.tls!.port, clientId: "bob-tls",
      secure: { ca: "aio-ca.der" }, rate: false }));
    cleanup.push(() => device.run(() => io.close()));
    await until("logged in over TLS", () => io.client.connected);
    device.run(() => io.feed("temp").publish(19.25));
    await until("the emulator stored it", () => aio.feed("bob", "temp")?.history.length === 1);
    expect(aio.feed("bob", "temp")!.last!.value).toBe("19.25");
    expect(aio.tls!.url).toBe(`mqtts://127.0.0.1:${aio.tls!.port}`);
    // Its plain port still answers, and TLS on it is refused as "not a TLS port".
    const plain = client("aio-plain-port", aio.port, { ca: "aio-ca.der" });
    expect((await new Promise<string>((r) => { const t = setInterval(() => { if (plain.closes.length) { clearInterval(t); r(plain.closes[0]!.message); } }, 10); })))
      .toContain("no TLS answer");
  });

  it("takes the CA from a PEM resource as well as from a DER one, and from DER bytes", async () => {
    for (const [id, options] of [["pem", { ca: "broker-ca.pem" }], ["der", { ca: "broker-ca.der" }], ["bytes", { certificate: ca.der }]] as const) {
      const side = client(`tls-ca-${id}`, port.good, options);
      await until(`connected with the CA as ${id}`, () => side.c.connected);
      expect(side.closes).toEqual([]);
    }
  });

  it("decodes PEM to the DER that openssl writes", () => {
    expect(Buffer.compare(pemToDer(new Uint8Array(Buffer.from(ca.pem)).buffer)!, ca.der)).toBe(0);
    expect(pemToDer(new Uint8Array(Buffer.from("no certificate here")).buffer)).toBeUndefined();
  });

  it("names a CA missing from the firmware's resources and how to add it", () => {
    expect(() => new TlsTransport({ ca: "nowhere.der" })).toThrow(
      'TLS CA certificate "nowhere.der" is not among the firmware\'s resources: add it to the manifest\'s "resources" (e.g. "resources": {"*": ["./nowhere"]})');
    expect(() => new TlsTransport({ protocolVersion: 0x304 })).toThrow("TLS protocolVersion 0x304: Moddable's TLS speaks 0x301 (TLS 1.0), 0x302 (1.1) and 0x303 (1.2)");
  });

  it("reconnects over TLS after a broker restart", async () => {
    const tlsPort = await freePort();
    const m = await Mosquitto.start({ config: mosquittoTlsListener(tlsPort, ca, good) });
    cleanup.push(() => m.close());
    const side = client("tls-restart", tlsPort, { ca: "broker-ca.der" }, { reconnect: { min: 50, max: 200 } });
    await until("connected", () => side.c.connected);
    await m.restart();
    await until("lost the connection", () => side.closes.length > 0);
    await until("connected again", () => side.c.connected, 10000);
    const got: string[] = [];
    side.c.subscribe("tls/restart", 1, (msg) => got.push(msg.text));
    side.device.run(() => side.c.publish("tls/restart", "after", 1));
    await until("message after the restart", () => got.length === 1);
    expect(got).toEqual(["after"]);
  });
});

describe("TLS failures, each with what went wrong, where, and what to do", () => {
  /** The reason the first connection ended, once it did. */
  async function failure(side: Side): Promise<string> {
    await until("the connection failed", () => side.closes.length > 0, 10000);
    expect(side.c.connected).toBe(false);
    return side.closes[0]!.message;
  }

  const refused = (p: number, name: string) =>
    `connection lost: TLS to ${name}:${p}: the broker's certificate was refused. Check that it names "${name}" in its subjectAltName`;

  it("an expired broker certificate", async () => {
    const side = client("tls-expired", port.expired);
    expect(await failure(side)).toContain(refused(port.expired, "127.0.0.1"));
    expect(side.traces.join("")).toContain("date validation failed on received certificate");
  });

  it("a broker certificate signed by a CA the board does not know", async () => {
    const side = client("tls-unknown-ca", port.unknownCA);
    expect(await failure(side)).toContain("that it is signed by the CA given as `ca`");
    // Moddable traces nothing here: neither the name nor the dates were the trouble.
    expect(side.traces.join("")).not.toMatch(/subjectAltName|date validation/);
  });

  it("a broker certificate for another host name (and serverName to connect by the name it holds)", async () => {
    const side = client("tls-wrong-name", port.wrongName);
    expect(await failure(side)).toContain(refused(port.wrongName, "127.0.0.1"));
    expect(side.traces.join("")).toContain("subjectAltName match failed for 127.0.0.1");
    const named = client("tls-server-name", port.wrongName, { ca: "broker-ca.der", serverName: "broker.example" });
    await until("connected by the certificate's name", () => named.c.connected);
  });

  it("a broker that accepts only TLS 1.3 (Moddable's TLS stops at 1.2)", async () => {
    const side = client("tls-13", port.tls13);
    expect(await failure(side)).toBe(`connection lost: TLS to 127.0.0.1:${port.tls13}: the broker refused TLS 1.2 (alert protocol_version): ` +
      "Moddable's TLS has no TLS 1.3; allow TLS 1.2 on the broker");
  });

  it("a broker that sends its certificate without the CA after it (Moddable refuses it; mosquitto always sends the chain)", async () => {
    const server = tls.createServer({ cert: readFileSync(good.certFile), key: readFileSync(good.keyFile) }, () => {});
    server.on("tlsClientError", () => {});
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const p = (server.address() as { port: number }).port;
    const side = client("tls-lone", p);
    expect(await failure(side)).toContain("that the broker sends its CA (or intermediate) after it, Moddable refuses a certificate sent alone");
    expect(side.traces.join("")).toContain("subjectAltName match failed for 127.0.0.1");
  });

  it("a plain MQTT port", async () => {
    const side = client("tls-plain-port", broker.port);
    expect(await failure(side)).toBe(`connection lost: TLS to 127.0.0.1:${broker.port}: no TLS answer (nothing listens there, or it is not a TLS port: ` +
      "MQTT over TLS is usually 8883, 1883 is plain)");
  });

  it("verify: false connects to any broker (debugging only)", async () => {
    const side = client("tls-noverify", port.unknownCA, { verify: false });
    await until("connected without checking", () => side.c.connected);
    expect(side.closes).toEqual([]);
  });
});
