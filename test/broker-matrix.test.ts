// The client's integration cases against every broker a user may point it at: mosquitto, aedes and RabbitMQ's
// MQTT plugin. Where brokers differ, the one table below says what each does, and every case reads it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, createServer } from "node:net";
import mqttPacket from "mqtt-packet";
import { Aedes } from "aedes";
import { MQTTClient, ErrorCode, type MQTTError, type MQTTClientOptions } from "../src/mqtt/client";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { RabbitMQ } from "../sim/brokers/rabbitmq.ts";
import { BrokerProxy } from "../sim/brokers/proxy.ts";
import { until } from "./support/wait.ts";

type BrokerName = "mosquitto" | "aedes" | "rabbitmq";
const USER = "maker", PASSWORD = "s3cret";

/** What each broker does where they differ (RabbitMQ 3.10's MQTT plugin, mosquitto 2, aedes 1). */
const differs = {
  /** QoS granted to a QoS 2 subscription, and the QoS a QoS 2 publish is taken at (RabbitMQ: PUBACK, no PUBREC). */
  qos2: { mosquitto: 2, aedes: 2, rabbitmq: 1 },
  /** CONNACK return code for a wrong password. */
  badPassword: { mosquitto: 5, aedes: 5, rabbitmq: 4 },
  /** CONNACK return code for a user who exists but may not use the broker (RabbitMQ: no permission on the vhost). */
  noAccess: { mosquitto: undefined, aedes: undefined, rabbitmq: 5 },
  /** A retained message reaches a wildcard subscription (RabbitMQ: only a subscription to exactly that topic). */
  retainedOnWildcard: { mosquitto: true, aedes: true, rabbitmq: false },
  /** The topic a subscriber sees for a publish to "d/a.b" (RabbitMQ maps MQTT "/" to AMQP "." and back). */
  dottedTopic: { mosquitto: "d/a.b", aedes: "d/a.b", rabbitmq: "d/a/b" },
  /** Incoming QoS 2 messages the broker leaves awaiting its PUBREL at once, which `inflightIn` must cover. aedes has
   *  no limit; mosquitto 2.0.11 keeps to max_inflight_messages (20) for the first 20, then often sends the rest of
   *  the burst after one PUBREC (seen: 180 pending); RabbitMQ sends QoS 1. */
  qos2Pending: { mosquitto: "burst", aedes: "burst", rabbitmq: 0 },
  /** QoS 0 messages are queued for a persistent session while it is offline. */
  offlineQos0: { mosquitto: false, aedes: false, rabbitmq: true },
  /** What a level-5 CONNECT gets: MQTT 5.0; the 3.1.1 CONNACK 1 (aedes 1.2); the connection closed without a word (RabbitMQ 3.10). */
  mqtt5: { mosquitto: "5.0", aedes: "CONNACK 1", rabbitmq: "closed" },
} as const satisfies Record<string, Record<BrokerName, unknown>>;

interface Running { port: number; close(): Promise<unknown> }

const starters: Record<BrokerName, () => Promise<Running>> = {
  mosquitto: () => Mosquitto.start({ users: { [USER]: PASSWORD } }),
  aedes: startAedes,
  rabbitmq: () => RabbitMQ.start({ users: { [USER]: PASSWORD }, noAccess: { visitor: "visitor" } }),
};

async function startAedes(): Promise<Running> {
  // aedes as a user would run it: its own answer (CONNACK 5) for a refused login.
  const broker = await Aedes.createBroker({
    authenticate: (_c, username, password, done) => done(null, username === USER && password?.toString() === PASSWORD),
  });
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((r) => { broker.close(() => server.close(() => r())); }),
  };
}

// All three start at once (RabbitMQ takes about 10 s to boot, the others' cases run meanwhile).
const names = ["mosquitto", "aedes", "rabbitmq"] as const;
let starting: Record<BrokerName, Promise<Running>> | undefined;
beforeAll(() => {
  starting = Object.fromEntries(names.map((n) => [n, starters[n]()])) as Record<BrokerName, Promise<Running>>;
  for (const p of Object.values(starting)) p.catch(() => {}); // reported by the broker's own describe
});
afterAll(async () => { for (const p of Object.values(starting ?? {})) await p.then((b) => b.close(), () => {}); });

for (const name of names) {
  describe(`${name}`, () => {
    const is = <K extends keyof typeof differs>(k: K) => differs[k][name] as (typeof differs)[K][BrokerName];
    let broker: Running;
    const cleanup: Array<() => unknown> = [];
    beforeAll(async () => { broker = await starting![name]; }, 120_000);
    afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

    /** A client logged in as USER; `errors` collects what onError reported. */
    function client(id: string, extra: Partial<MQTTClientOptions> = {}): MQTTClient & { errors: MQTTError[] } {
      const c = new MQTTClient({ host: "127.0.0.1", port: broker.port, clientId: `${name}-${id}`, username: USER, password: PASSWORD,
        keepalive: 30, rxBuffer: 2048, txBuffer: 2048, inflight: 8, queue: 16384, reconnect: { min: 50, max: 300 }, ...extra });
      const errors: MQTTError[] = [];
      c.onError = (e) => errors.push(e);
      cleanup.push(() => c.close());
      return Object.assign(c, { errors });
    }

    async function subscribed(c: MQTTClient, filter: string, qos: 0 | 1 | 2, handler?: Parameters<MQTTClient["subscribe"]>[2]): Promise<number> {
      let granted = -1;
      const before = c.onSubscribe;
      c.onSubscribe = (f, g) => { if (f === filter) granted = g; before?.(f, g); };
      c.subscribe(filter, qos, handler);
      await until(`SUBACK for ${filter}`, () => granted >= 0, 10_000);
      return granted;
    }

    /** Publishes a marker from `pub` to `topic` and waits until `sub` got it: what the broker sent `sub` before it is in. */
    async function roundTrip(sub: MQTTClient, pub: MQTTClient, topic: string): Promise<void> {
      let seen = false;
      await subscribed(sub, topic, 1, () => { seen = true; });
      pub.publish(topic, "marker", 1);
      await until(`marker on ${topic}`, () => seen, 10_000);
    }

    it("connects with a clean session", async () => {
      const c = client("connect");
      let present: boolean | undefined;
      c.onConnect = (p) => { present = p; };
      await until("CONNACK", () => present !== undefined, 10_000);
      expect(present).toBe(false);
      expect(c.errors).toEqual([]);
    });

    for (const qos of [0, 1, 2] as const) {
      const taken = qos === 2 ? is("qos2") : qos;
      it(`QoS ${qos}: 200 publishes with 8 in flight arrive in order with exact bytes${taken < qos ? ` (taken at QoS ${taken}, reported as QosDowngraded)` : ""}`, async () => {
        const sub = client(`sub-q${qos}`, { inflightIn: is("qos2Pending") === "burst" ? 200 : 20 }), pub = client(`pub-q${qos}`);
        const got: string[] = [];
        const qosSeen = new Set<number>(), topics = new Set<string>();
        const granted = await subscribed(sub, `t/q${qos}/+`, qos, (m) => {
          got.push(m.text);
          qosSeen.add(m.qos);
          topics.add(m.topic);
        });
        expect(granted).toBe(taken);
        const delivered: number[] = [];
        pub.onDelivered = (id) => delivered.push(id);
        await until("publisher connected", () => pub.connected, 10_000);
        for (let i = 0; i < 200; i++) pub.publish(`t/q${qos}/x`, `msg-${i}-ü`, qos);
        await until(`200 messages`, () => got.length >= 200, 20_000).catch((e) => {
          throw new Error(`${e.message}: got ${got.length}, acknowledged ${delivered.length}, publisher in flight ${pub.session.inflight.count}`);
        });
        expect(got).toEqual(Array.from({ length: 200 }, (_, i) => `msg-${i}-ü`));
        expect([...qosSeen]).toEqual([taken]);
        expect([...topics]).toEqual([`t/q${qos}/x`]);
        if (qos > 0) await until(`200 acknowledged (got ${delivered.length})`, () => delivered.length === 200, 10_000);
        expect(pub.session.inflight.count).toBe(0);
        if (taken < qos) {
          // Each downgraded publish and the subscription say so; nothing else went wrong.
          expect(pub.errors.length).toBe(200);
          expect(pub.errors.every((e) => e.code === ErrorCode.QosDowngraded && /publish \d+ with PUBACK/.test(e.message))).toBe(true);
          expect(sub.errors.map((e) => [e.code, e.reasonCode])).toEqual([[ErrorCode.QosDowngraded, taken]]);
        } else {
          expect(pub.errors).toEqual([]);
          expect(sub.errors).toEqual([]);
        }
        expect(pub.reconnects + sub.reconnects).toBe(0);
      });
    }

    it(`retained: set, seen by an exact subscription${is("retainedOnWildcard") ? " and a wildcard one" : " but not a wildcard one"}, then cleared`, async () => {
      const pub = client("ret-pub");
      await until("publisher connected", () => pub.connected, 10_000);
      let acked = 0;
      pub.onDelivered = () => acked++;
      pub.publish("ret/a", "kept", { qos: 1, retain: true });
      await until("retained publish acknowledged", () => acked === 1, 10_000);

      const exact = client("ret-exact"), wild = client("ret-wild");
      const exactSeen: Array<[string, boolean]> = [], wildSeen: Array<[string, boolean]> = [];
      await subscribed(exact, "ret/a", 1, (m) => exactSeen.push([m.text, m.retain]));
      await until("retained copy on the exact subscription", () => exactSeen.length === 1, 10_000);
      expect(exactSeen).toEqual([["kept", true]]);
      await subscribed(wild, "ret/+", 1, (m) => { if (!m.topicIs("ret/marker")) wildSeen.push([m.text, m.retain]); });
      await roundTrip(wild, pub, "ret/marker");
      expect(wildSeen).toEqual(is("retainedOnWildcard") ? [["kept", true]] : []);

      pub.publish("ret/a", "", { qos: 1, retain: true });
      await until("the clear delivered live", () => exactSeen.length === 2, 10_000);
      expect(exactSeen[1]).toEqual(["", false]);
      const late = client("ret-late");
      const lateSeen: string[] = [];
      await subscribed(late, "ret/a", 1, (m) => lateSeen.push(m.text));
      await roundTrip(late, pub, "ret/marker");
      expect(lateSeen).toEqual([]);
    });

    it("will: published when the link drops without DISCONNECT, not after close()", async () => {
      const watcher = client("will-watch");
      const wills: string[] = [];
      await subscribed(watcher, "dev/+/status", 1, (m) => wills.push(`${m.topic}=${m.text}`));
      const proxy = await BrokerProxy.start(broker.port);
      cleanup.push(() => proxy.close());
      const victim = client("will-victim", { port: proxy.port, reconnect: false, will: { topic: "dev/victim/status", payload: "offline", qos: 1 } });
      const polite = client("will-polite", { will: { topic: "dev/polite/status", payload: "offline", qos: 1 } });
      await until("both connected", () => victim.connected && polite.connected, 10_000);
      polite.close();
      proxy.cut(); // the board loses power: the connection ends with no DISCONNECT
      await until("the will", () => wills.length >= 1, 10_000);
      await roundTrip(watcher, watcher, "dev/marker/status");
      expect(wills).toEqual(["dev/victim/status=offline", "dev/marker/status=marker"]);
    });

    it("keepalive: pings answered on an idle link; a client gone silent is dropped by the broker, which publishes its will", async () => {
      const watcher = client("ka-watch");
      const wills: string[] = [];
      await subscribed(watcher, "ka/+", 1, (m) => wills.push(m.topic));
      const idle = client("ka-idle", { keepalive: 1, will: { topic: "ka/idle", payload: "gone", qos: 1 } });
      let closes = 0;
      idle.onClose = () => closes++;
      await until("connected", () => idle.connected, 10_000);
      // Two and a half keepalive periods with no traffic but pings: the client got each PINGRESP (else PingTimeout after
      // 1.5 s) and the broker saw each PINGREQ (else it would have dropped us after 1.5 s).
      await new Promise((r) => setTimeout(r, 2500));
      expect(idle.errors).toEqual([]);
      expect([idle.connected, closes]).toEqual([true, 0]);
      // A board that hangs right after CONNECT sends nothing more: the broker must notice on its own.
      const silent = connect(broker.port, "127.0.0.1");
      cleanup.push(() => silent.destroy());
      let dropped = false;
      silent.on("close", () => { dropped = true; });
      silent.on("error", () => {});
      silent.resume(); // read (and drop) the CONNACK, or the end of the stream is never seen
      silent.write(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 1,
        clientId: `${name}-ka-silent`, username: USER, password: Buffer.from(PASSWORD),
        will: { topic: "ka/silent", payload: Buffer.from("gone"), qos: 1, retain: false } }));
      await until("the broker drops the silent client", () => dropped, 10_000);
      await until("its will", () => wills.length === 1, 10_000);
      expect(wills).toEqual(["ka/silent"]);
    });

    it("persistent session: QoS 1 published while offline is delivered on return" +
      (is("offlineQos0") ? ", and so is QoS 0" : "; QoS 0 is not kept"), async () => {
      const first = client("persist", { cleanSession: false });
      await subscribed(first, "inbox/#", 1);
      first.close(); // the device sleeps
      const pub = client("persist-pub");
      let acked = 0;
      pub.onDelivered = () => acked++;
      await until("publisher connected", () => pub.connected, 10_000);
      for (let i = 0; i < 20; i++) pub.publish("inbox/a", `q1-${i}`, 1);
      for (let i = 0; i < 5; i++) pub.publish("inbox/b", `q0-${i}`, 0);
      await until("QoS 1 acknowledged", () => acked === 20, 10_000);
      await roundTrip(pub, pub, "inbox-marker/x"); // the QoS 0 ones went through the broker too

      const again = client("persist", { cleanSession: false });
      const got: string[] = [];
      let present: boolean | undefined;
      again.onConnect = (p) => { present = p; };
      again.onMessage = (m) => { if (!m.topicIs("inbox/marker")) got.push(m.text); };
      await until("connected again", () => present !== undefined, 10_000);
      expect(present).toBe(true);
      await until("the QoS 1 backlog", () => got.filter((t) => t.startsWith("q1")).length === 20, 10_000);
      await roundTrip(again, pub, "inbox/marker");
      const q0 = Array.from({ length: 5 }, (_, i) => `q0-${i}`);
      // In order per QoS (MQTT orders messages of one QoS on a topic; RabbitMQ may interleave its QoS 0 backlog with the QoS 1 one).
      expect(got.filter((t) => t.startsWith("q1"))).toEqual(Array.from({ length: 20 }, (_, i) => `q1-${i}`));
      expect(got.filter((t) => t.startsWith("q0"))).toEqual(is("offlineQos0") ? q0 : []);
      expect(got.length).toBe(20 + (is("offlineQos0") ? 5 : 0));
      // The next connection cleans up after the test (a persistent session would outlive it on the broker).
      again.close();
      const clean = client("persist", { cleanSession: true });
      await until("clean connection", () => clean.connected, 10_000);
    });

    it(`wildcards: + and # dispatched per subscription; a dot in a topic arrives as "${is("dottedTopic")}"`, async () => {
      const sub = client("wild-sub"), pub = client("wild-pub");
      const plus: string[] = [], hash: string[] = [];
      await subscribed(sub, "w/+/temp", 1, (m) => plus.push(m.topic));
      await subscribed(sub, "w/#", 1, (m) => hash.push(m.topic));
      await until("publisher connected", () => pub.connected, 10_000);
      for (const t of ["w/kitchen/temp", "w/kitchen/hum", "w/a/b/temp", "w", "w/temp"]) pub.publish(t, "1", 1);
      await until("5 messages on w/#", () => hash.length === 5, 10_000);
      expect(plus).toEqual(["w/kitchen/temp"]);
      expect(hash).toEqual(["w/kitchen/temp", "w/kitchen/hum", "w/a/b/temp", "w", "w/temp"]);

      const dotted: string[] = [];
      await subscribed(sub, "d/#", 1, (m) => dotted.push(m.topic));
      pub.publish("d/a.b", "1", 1);
      await until("the dotted topic", () => dotted.length === 1, 10_000);
      expect(dotted).toEqual([is("dottedTopic")]);
      expect(sub.errors).toEqual([]);
    });

    it("unsubscribe: UNSUBACK reported, then nothing more on that filter while the others go on", async () => {
      const sub = client("unsub-sub"), pub = client("unsub-pub");
      const got: string[] = [];
      await subscribed(sub, "u/a", 1, (m) => got.push(m.topic));
      await subscribed(sub, "u/b", 1, (m) => got.push(m.topic));
      await until("publisher connected", () => pub.connected, 10_000);
      pub.publish("u/a", "1", 1);
      await until("first message", () => got.length === 1, 10_000);
      const unsubacks: string[] = [];
      sub.onUnsubscribe = (f) => unsubacks.push(f);
      sub.unsubscribe("u/a");
      await until("UNSUBACK", () => unsubacks.length === 1, 10_000);
      expect(unsubacks).toEqual(["u/a"]);
      pub.publish("u/a", "2", 1);
      pub.publish("u/b", "3", 1);
      await until("u/b", () => got.length >= 2, 10_000);
      expect(got).toEqual(["u/a", "u/b"]);
    });

    it(is("mqtt5") === "5.0" ? "MQTT 5.0: connects with protocolVersion 5 and round-trips a message with its properties"
      : `MQTT 5.0: ${is("mqtt5") === "closed" ? "the broker closes at a level-5 CONNECT" : "refused with the 3.1.1 CONNACK 1"}, and the client says to use protocolVersion 4`, async () => {
      const c = client("v5", { protocolVersion: 5, reconnect: false });
      const closes: string[] = [];
      c.onClose = (e) => closes.push(e?.message ?? "closed");
      if (is("mqtt5") === "CONNACK 1") {
        await until("the refusal", () => c.errors.length > 0, 10_000);
        expect(c.errors.map((e) => [e.code, e.reasonCode])).toEqual([[ErrorCode.NotSupported, 0x84]]);
        expect(c.errors[0].message).toContain("the broker answered in MQTT 3.1.1: it does not speak 5.0; use protocolVersion 4");
        expect(c.connected).toBe(false);
        return;
      }
      if (is("mqtt5") === "closed") {
        await until("the close", () => closes.length > 0, 10_000);
        expect(closes).toEqual(["connection lost: closed by the broker before its CONNACK: if it does not speak MQTT 5.0, use protocolVersion 4"]);
        expect(c.connected).toBe(false);
        return;
      }
      let got: [string, string | undefined, string | undefined] | undefined;
      await subscribed(c, "v5/+", 1, (m) => { got = [m.text, m.contentType, m.userProperty("unit")]; });
      c.publish("v5/t", "21.5", { qos: 1, properties: { contentType: "text/plain", userProperties: { unit: "C" } } });
      await until("the 5.0 message", () => got !== undefined, 10_000);
      expect(got).toEqual(["21.5", "text/plain", "C"]);
      expect(c.errors).toEqual([]);
    });

    it(`wrong password: refused with CONNACK ${is("badPassword")}, the right one is let in`, async () => {
      const bad = client("bad-pw", { password: "wrong", reconnect: false });
      await until("a refusal", () => bad.errors.length > 0, 10_000);
      expect(bad.errors.map((e) => [e.code, e.reasonCode])).toEqual([[ErrorCode.ConnectionRefused, is("badPassword")]]);
      expect(bad.connected).toBe(false);
      const good = client("good-pw");
      await until("connected", () => good.connected, 10_000);
    });

    const noAccess = is("noAccess");
    if (noAccess !== undefined) {
      it(`a user without access to the vhost: refused with CONNACK ${noAccess}`, async () => {
        const c = client("no-access", { username: "visitor", password: "visitor", reconnect: false });
        await until("a refusal", () => c.errors.length > 0, 10_000);
        expect(c.errors.map((e) => [e.code, e.reasonCode])).toEqual([[ErrorCode.ConnectionRefused, noAccess]]);
      });
    }
  });
}
