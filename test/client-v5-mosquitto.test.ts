// The MQTT 5.0 client against a real mosquitto 2.0.11 speaking 5.0, with MQTT.js 5 (protocolVersion 5) as the
// independent peer: properties both ways, subscription options, shared subscriptions, topic aliases, receive
// maximum, maximum packet size, session expiry, DISCONNECT reasons, PUBACK reasons, CONNACK limits.
// What mosquitto itself does with each feature is in the table of the closing note (and asserted here).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient, type IClientOptions } from "mqtt";
import { MQTTClient, ErrorCode, type MQTTError, type MQTTClientOptions, type Message } from "../src/mqtt/client";
import { Properties } from "../src/mqtt/properties";
import { TcpTransport } from "../src/net/tcp-transport";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { V5Tap } from "./support/v5-broker.ts";
import { until } from "./support/wait.ts";

import { type Client, v5Client } from "./support/v5-client.ts";

/** Brokers by configuration (each a real mosquitto on its own port). */
let plain: Mosquitto, limits: Mosquitto, restricted: Mosquitto, acl: Mosquitto;
let aclDir: string;
const cleanup: Array<() => unknown> = [];

beforeAll(async () => {
  aclDir = mkdtempSync(join(tmpdir(), "xsmq-v5-acl-"));
  writeFileSync(join(aclDir, "acl"), "topic readwrite open/#\ntopic read ro/#\n");
  [plain, limits, restricted, acl] = await Promise.all([
    // log_type notice: the log line for each connection says its protocol (p2: 3.1.1, p5: 5.0).
    Mosquitto.start({ config: ["log_type notice"] }),
    Mosquitto.start({ config: ["max_topic_alias 2", "max_packet_size 600", "max_keepalive 10", "max_inflight_messages 3"] }),
    Mosquitto.start({ config: ["retain_available false", "max_qos 1", "allow_zero_length_clientid false"] }),
    Mosquitto.start({ config: [`acl_file ${join(aclDir, "acl")}`, "message_size_limit 100"] }),
  ]);
});
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });
afterAll(async () => {
  await Promise.all([plain, limits, restricted, acl].map((b) => b?.close()));
  rmSync(aclDir, { recursive: true, force: true });
});

/** Our client in 5.0 on `broker` (or a port); errors, closes and CONNACKs recorded. */
function v5(broker: Mosquitto | number, id: string, extra: Partial<MQTTClientOptions> = {}): Client {
  return v5Client(typeof broker === "number" ? broker : broker.port, id, cleanup, extra);
}

/** MQTT.js 5 connected to `broker`. */
async function peer(broker: Mosquitto | number, id: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const port = typeof broker === "number" ? broker : broker.port;
  const c = mqtt.connect({ host: "127.0.0.1", port, clientId: id, protocolVersion: 5, reconnectPeriod: 0, keepalive: 30, ...extra });
  cleanup.push(() => new Promise<void>((r) => c.end(true, {}, () => r())));
  await new Promise<void>((resolve, reject) => { c.once("connect", () => resolve()); c.once("error", reject); });
  return c;
}

async function peerSubscribe(c: MqttClient, filter: string, opts: Parameters<MqttClient["subscribeAsync"]>[1] = { qos: 1 }): Promise<number[]> {
  const granted = await c.subscribeAsync(filter, opts);
  return granted.map((g) => g.qos);
}

/** Subscribes our client and waits for the SUBACK; returns the granted code. */
async function subscribed(c: MQTTClient, filter: string, options: Parameters<MQTTClient["subscribe"]>[1], handler?: (m: Message) => void): Promise<number> {
  let granted = -1;
  const prev = c.onSubscribe;
  c.onSubscribe = (f, g) => { if (f === filter) granted = g; prev?.(f, g); };
  c.subscribe(filter, options, handler);
  await until(`SUBACK for ${filter}`, () => granted >= 0);
  c.onSubscribe = prev;
  return granted;
}

/** Waits until the plain mosquitto logged that `id` disconnected (its DISCONNECT handled before the next CONNECT). */
const gone = (id: string) => until(`mosquitto logs ${id} disconnected`, () => plain.log.includes(`Client ${id} disconnected`));


describe("MQTT 5.0 with mosquitto 2.0.11", () => {
  it("connects in 5.0 and reads the CONNACK's limits into client.server", async () => {
    const c = v5(plain, "v5-connack");
    await until("CONNACK", () => c.connected);
    expect(c.connacks).toEqual([false]);
    const b = c.server;
    expect(b.receiveMaximum).toBe(20); // mosquitto's max_inflight_messages default
    expect(b.topicAliasMaximum).toBe(10); // mosquitto's max_topic_alias default
    expect(b.maximumQoS).toBe(2);
    expect(b.retainAvailable).toBe(true);
    expect(b.serverKeepAlive).toBe(-1);
    expect(b.assignedClientIdentifier ?? "").toBe("");
    // mosquitto's own log says which protocol it spoke: p5.
    await until("mosquitto logged the connection", () => plain.log.includes("as v5-connack"));
    expect(plain.log).toMatch(/as v5-connack \(p5, c1, k30/);
  });

  it("3.1.1 stays the default: no protocolVersion connects as p2 with no 5.0 fields", async () => {
    const c = v5(plain, "v4-default", { protocolVersion: undefined });
    const got: Message[] = [];
    await subscribed(c, "v4/t", 1, (m) => { got.push(m); });
    const p = await peer(plain, "v4-default-peer");
    await p.publishAsync("v4/t", "hello", { qos: 1, properties: { contentType: "text/plain" } });
    await until("message", () => got.length === 1);
    expect(got[0].v5).toBe(false);
    expect(got[0].text).toBe("hello");
    expect(got[0].contentType).toBeUndefined(); // 3.1.1 carries no properties
    expect(plain.log).toMatch(/as v4-default \(p2, c1, k30/);
  });

  it("gets an assigned client identifier for an empty clientId, the one mosquitto then knows it by", async () => {
    const c = v5(plain, "");
    await until("CONNACK", () => c.connected);
    const assigned = c.server.assignedClientIdentifier;
    expect(assigned).toMatch(/^auto-[0-9A-F-]{36}$/);
    // Proof it is ours: another client connecting with that id takes the session over and ours loses its link.
    await peer(plain, assigned!);
    await until("taken over", () => c.closes.length === 1);
    // mosquitto 2.0.11 closes a taken-over 5.0 connection without DISCONNECT 0x8E: a plain loss, not Disconnected.
    expect(c.closes[0]?.code).toBe(ErrorCode.ConnectionLost);
  });

  it("reconnects under the assigned identifier, so mosquitto finds the session it kept", async () => {
    const c = v5(plain, "", { cleanSession: false, properties: { sessionExpiryInterval: 60 }, reconnect: { min: 20, max: 50 } });
    await until("CONNACK", () => c.connected);
    const assigned = c.server.assignedClientIdentifier!;
    expect(assigned).toMatch(/^auto-/);
    expect(c.clientId).toBe(assigned);
    c.disconnect(); // link lost: the client reconnects by itself
    await until("second CONNACK", () => c.connacks.length === 2);
    expect(c.connacks).toEqual([false, true]);
    expect(c.server.assignedClientIdentifier).toBeUndefined(); // nothing assigned the second time
    expect(c.clientId).toBe(assigned);
    c.close({ sessionExpiryInterval: 0 });
  });

  it("allow_zero_length_clientid false: mosquitto refuses an empty clientId with CONNACK 0x80 in 5.0 (2 in 3.1.1)", async () => {
    const c = v5(restricted, "");
    const old = v5(restricted, "", { protocolVersion: 4 });
    await until("both refused", () => c.errors.length > 0 && old.errors.length > 0);
    // mosquitto 2.0.11 says 0x80 Unspecified error, not 0x85 Client Identifier not valid (seen on the wire: 20 03 00 80 00).
    expect([c.errors[0].code, c.errors[0].reasonCode]).toEqual([ErrorCode.ConnectionRefused, 0x80]);
    expect(c.errors[0].message).toMatch(/Unspecified error/);
    expect([old.errors[0].code, old.errors[0].reasonCode]).toEqual([ErrorCode.ConnectionRefused, 2]);
    expect(old.errors[0].message).toMatch(/client identifier rejected/);
  });

  for (const shape of ["a plain object", "a Properties encoded once"] as const) {
    it(`publishes properties given as ${shape}; an MQTT.js 5 subscriber reads each one`, async () => {
      const topic = `props/out/${shape.length}`;
      const sub = await peer(plain, `props-out-sub-${shape.length}`);
      await peerSubscribe(sub, topic);
      const got: Array<{ payload: string; props: Record<string, unknown> }> = [];
      sub.on("message", (_t, payload, packet) => got.push({ payload: payload.toString(), props: { ...packet.properties } }));
      const given = {
        contentType: "application/json", responseTopic: "props/reply", correlationData: new Uint8Array([0, 1, 254, 255]),
        userProperties: { unit: "°C", tag: ["a", "b"] }, messageExpiryInterval: 120, payloadFormatIndicator: true,
      };
      const c = v5(plain, `props-out-${shape.length}`);
      await until("connected", () => c.connected);
      const props = shape === "a plain object" ? given : new Properties(given);
      c.publish(topic, '{"t":21.5}', { qos: 1, properties: props });
      c.publish(topic, "second", { qos: 0, properties: props });
      await until("2 messages", () => got.length === 2);
      for (const g of got) {
        expect(g.props.contentType).toBe("application/json");
        expect(g.props.responseTopic).toBe("props/reply");
        expect([...(g.props.correlationData as Buffer)]).toEqual([0, 1, 254, 255]);
        expect(g.props.userProperties).toEqual({ unit: "°C", tag: ["a", "b"] });
        expect(g.props.payloadFormatIndicator).toBe(true);
        // The broker sends what is left of the interval: at most what we gave, and not expired.
        expect(g.props.messageExpiryInterval).toBeGreaterThan(100);
        expect(g.props.messageExpiryInterval).toBeLessThanOrEqual(120);
      }
      expect(got.map((g) => g.payload)).toEqual(['{"t":21.5}', "second"]);
      expect(c.errors).toEqual([]);
    });
  }

  it("refuses a payload that is not UTF-8 when payloadFormatIndicator says it is", async () => {
    const c = v5(plain, "props-bad-utf8");
    await until("connected", () => c.connected);
    const bad = new Uint8Array([0x61, 0xff, 0x62]);
    let threw: unknown;
    try { c.publish("props/bad", bad, { qos: 0, properties: { payloadFormatIndicator: true } }); } catch (e) { threw = e; }
    const reported = threw ?? c.errors[0];
    expect((reported as MQTTError)?.code).toBe(ErrorCode.BadUtf8);
  });

  it("reads the properties of a message MQTT.js published through Message's getters", async () => {
    const c = v5(plain, "props-in");
    const got: Array<Record<string, unknown>> = [];
    await subscribed(c, "props/in", 1, (m) => {
      got.push({
        v5: m.v5, text: m.text, contentType: m.contentType, isJson: m.contentTypeIs("application/json"), isText: m.contentTypeIs("text/plain"),
        responseTopic: m.responseTopic, correlationData: m.correlationData ? [...m.correlationData] : undefined,
        userProperties: m.userProperties, unit: m.userProperty("unit"), missing: m.userProperty("nope"),
        payloadFormat: m.payloadFormat, messageExpiry: m.messageExpiry,
      });
    });
    const p = await peer(plain, "props-in-peer");
    await p.publishAsync("props/in", "{}", {
      qos: 1, properties: {
        contentType: "application/json", responseTopic: "props/in/reply", correlationData: Buffer.from([9, 8, 7]),
        userProperties: { unit: "kPa", tag: ["x", "y"] }, payloadFormatIndicator: true, messageExpiryInterval: 300,
      },
    });
    await p.publishAsync("props/in", "bare", { qos: 1 });
    await until("2 messages", () => got.length === 2);
    expect(got[0]).toMatchObject({
      v5: true, text: "{}", contentType: "application/json", isJson: true, isText: false, responseTopic: "props/in/reply",
      correlationData: [9, 8, 7], userProperties: { unit: "kPa", tag: ["x", "y"] }, unit: "kPa", payloadFormat: 1,
    });
    expect(got[0].missing).toBeUndefined();
    expect(got[0].messageExpiry).toBeGreaterThan(290);
    expect(got[0].messageExpiry).toBeLessThanOrEqual(300);
    // A message without properties reads as "absent" everywhere.
    expect(got[1]).toMatchObject({ text: "bare", payloadFormat: -1, messageExpiry: -1, isJson: false });
    expect(got[1].contentType).toBeUndefined();
    expect(got[1].responseTopic).toBeUndefined();
    expect(got[1].correlationData).toBeUndefined();
  });

  it("reads 5.0 PUBLISHes split into 7-byte socket reads: properties, payloads to 3000 B, QoS 0/1/2, exact bytes", async () => {
    const c = v5(plain, "small-reads", { rxBuffer: 4096, transport: new TcpTransport(7) });
    const got: Array<{ len: number; sum: number; qos: number; ct?: string; up?: string; corr?: number[] }> = [];
    await subscribed(c, "sr/#", { qos: 2, subscriptionIdentifier: 77 }, (m) => {
      let sum = 0;
      for (let k = 0; k < m.length; k++) sum = (sum * 31 + m.byte(k)) >>> 0;
      got.push({ len: m.length, sum, qos: m.qos, ct: m.contentType, up: m.userProperty("i"), corr: m.correlationData ? [...m.correlationData] : undefined });
    });
    const p = await peer(plain, "small-reads-peer");
    const want: typeof got = [];
    for (let i = 0; i < 30; i++) {
      const size = [0, 1, 127, 128, 300, 3000][i % 6], qos = (i % 3) as 0 | 1 | 2;
      const payload = Buffer.alloc(size, i);
      let sum = 0;
      for (const b of payload) sum = (sum * 31 + b) >>> 0;
      await p.publishAsync(`sr/${i}`, payload, { qos, properties: { contentType: `t/${i}`, userProperties: { i: `${i}` }, correlationData: Buffer.from([i, 255 - i]) } });
      want.push({ len: size, sum, qos, ct: `t/${i}`, up: `${i}`, corr: [i, 255 - i] });
    }
    await until("30 messages", () => got.length === 30);
    expect(got).toEqual(want);
    expect(c.errors).toEqual([]);
  });

  it("delivers subscription identifiers: mosquitto sends one copy per matching subscription, each with its id", async () => {
    const c = v5(plain, "subid");
    const copies: Array<[string, number, number, number[]]> = [];
    c.onMessage = (m) => copies.push([m.topic, m.subscriptionIds, m.subscriptionId, m.subscriptionIdentifiers]);
    const handled: Array<[string, string, number]> = [];
    const rec = (handler: string) => (m: Message) => handled.push([handler, m.topic, m.subscriptionId]);
    await subscribed(c, "sid/a/+", { qos: 1, subscriptionIdentifier: 5 }, rec("a"));
    await subscribed(c, "sid/#", { qos: 1, subscriptionIdentifier: 9 }, rec("all"));
    const p = await peer(plain, "subid-peer");
    await p.publishAsync("sid/b", "only-all", { qos: 1 });
    await p.publishAsync("sid/a/x", "both", { qos: 1 });
    await p.publishAsync("sid/end", "end", { qos: 1 });
    await until("the end marker", () => copies.some(([t]) => t === "sid/end"));
    // MQTT-3.3.4-3/-5: either one copy with both ids or a copy per subscription with its own; mosquitto does the latter.
    expect(copies).toEqual([["sid/b", 1, 9, [9]], ["sid/a/x", 1, 5, [5]], ["sid/a/x", 1, 9, [9]], ["sid/end", 1, 9, [9]]]);
    // Each copy goes to the handler of the subscription whose identifier it carries, once.
    expect(handled).toEqual([["all", "sid/b", 9], ["a", "sid/a/x", 5], ["all", "sid/a/x", 9], ["all", "sid/end", 9]]);
  });

  it("noLocal: its own publishes do not come back, others' do", async () => {
    const c = v5(plain, "nolocal");
    const got: string[] = [];
    await subscribed(c, "nl/t", { qos: 1, noLocal: true }, (m) => got.push(m.text));
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    c.publish("nl/t", "mine", 1);
    await until("PUBACK", () => delivered.length === 1);
    const p = await peer(plain, "nolocal-peer");
    await p.publishAsync("nl/t", "theirs", { qos: 1 });
    // Same topic, same QoS: mosquitto keeps the order, so "mine" would have come first.
    await until("theirs", () => got.includes("theirs"));
    expect(got).toEqual(["theirs"]);
  });

  it("without noLocal its own publish comes back (the control case)", async () => {
    const c = v5(plain, "local");
    const got: string[] = [];
    await subscribed(c, "nl/ctl", { qos: 1 }, (m) => got.push(m.text));
    c.publish("nl/ctl", "mine", 1);
    await until("own message", () => got.length === 1);
    expect(got).toEqual(["mine"]);
  });

  it("retainAsPublished keeps the retain flag on live messages; without it mosquitto clears it", async () => {
    const rap = v5(plain, "rap-yes"), norap = v5(plain, "rap-no");
    const a: boolean[] = [], b: boolean[] = [];
    await subscribed(rap, "rap/t", { qos: 1, retainAsPublished: true }, (m) => a.push(m.retain));
    await subscribed(norap, "rap/t", { qos: 1 }, (m) => b.push(m.retain));
    const p = await peer(plain, "rap-peer");
    await p.publishAsync("rap/t", "live-retained", { qos: 1, retain: true });
    await until("both", () => a.length === 1 && b.length === 1);
    expect(a).toEqual([true]);
    expect(b).toEqual([false]);
    await p.publishAsync("rap/t", "", { qos: 1, retain: true }); // clear it
  });

  it("retainHandling 0/1/2: retained copy on every subscribe / only a new one / never", async () => {
    const p = await peer(plain, "rh-peer");
    await p.publishAsync("rh/t", "kept", { qos: 1, retain: true });
    for (const [rh, first, again] of [[0, 1, 1], [1, 1, 0], [2, 0, 0]] as const) {
      const c = v5(plain, `rh-${rh}`);
      const got: string[] = [];
      const handler = (m: Message) => got.push(`${m.text}${m.retain ? "(r)" : ""}`);
      await subscribed(c, "rh/t", { qos: 1, retainHandling: rh }, handler);
      // A live, non-retained message after the SUBACK: the retained copy, if any, comes before it.
      await p.publishAsync("rh/t", "mark1", { qos: 1 });
      await until(`rh ${rh}: mark1`, () => got.includes("mark1"));
      await subscribed(c, "rh/t", { qos: 1, retainHandling: rh }, handler); // the same filter again
      await p.publishAsync("rh/t", "mark2", { qos: 1 });
      await until(`rh ${rh}: mark2`, () => got.includes("mark2"));
      const expected = [...(first ? ["kept(r)"] : []), "mark1", ...(again ? ["kept(r)"] : []), "mark2"];
      expect(got, `retainHandling ${rh}`).toEqual(expected);
    }
    await p.publishAsync("rh/t", "", { qos: 1, retain: true });
  });

  it("$share/group/filter: two members of a group get each message once between them", async () => {
    const a = v5(plain, "share-a"), b = v5(plain, "share-b");
    const got: Array<[string, string]> = [];
    await subscribed(a, "$share/g1/sh/#", 1, (m) => got.push(["a", m.text]));
    await subscribed(b, "$share/g1/sh/#", 1, (m) => got.push(["b", m.text]));
    const p = await peer(plain, "share-peer");
    for (let i = 0; i < 20; i++) await p.publishAsync(`sh/${i % 3}`, `m${i}`, { qos: 1 });
    await until("20 messages", () => got.length >= 20);
    expect(got.map(([, t]) => t).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
    expect(got.some(([w]) => w === "a")).toBe(true);
    expect(got.some(([w]) => w === "b")).toBe(true);
    expect(a.server.sharedSubscriptionsAvailable).toBe(true);
  });

  it("uses topic aliases for live QoS 0 publishes up to the broker's maximum (2); QoS 1 carries the full topic", async () => {
    const tap = await V5Tap.start(limits.port);
    cleanup.push(() => tap.close());
    const sub = await peer(limits, "alias-out-sub");
    await peerSubscribe(sub, "al/#");
    const got: string[] = [];
    sub.on("message", (t, payload) => got.push(`${t}=${payload}`));
    const c = v5(tap.port, "alias-out");
    await until("connected", () => c.connected);
    expect(c.server.topicAliasMaximum).toBe(2);
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) for (const t of ["al/one", "al/two", "al/three"]) { c.publish(t, `${i}`, 0); sent.push(`${t}=${i}`); }
    c.publish("al/one", "q1", 1); sent.push("al/one=q1");
    await until("all at the subscriber", () => got.length === sent.length);
    expect(got).toEqual(sent);
    const pubs = tap.seen("publish", true);
    const aliases = pubs.map((p) => p.properties?.topicAlias ?? 0);
    expect(Math.max(...aliases)).toBeLessThanOrEqual(2);
    expect(aliases.filter((a) => a > 0).length).toBeGreaterThan(0);
    // An alias once set is then used with an empty topic (the bytes saved).
    expect(pubs.some((p) => p.topic === "" && (p.properties?.topicAlias ?? 0) > 0)).toBe(true);
    const q1 = pubs.find((p) => p.qos === 1)!;
    expect(q1.topic).toBe("al/one");
    expect(q1.properties?.topicAlias).toBeUndefined();
    expect(tap.seen("disconnect", false)).toEqual([]);
    expect(c.errors).toEqual([]);
  });

  it("announces topicAliasMaximum; mosquitto 2.0.11 still sends full topics (it never uses aliases towards clients)", async () => {
    const tap = await V5Tap.start(plain.port);
    cleanup.push(() => tap.close());
    const c = v5(tap.port, "alias-in", { properties: { topicAliasMaximum: 6 } });
    const got: Array<[string, number]> = [];
    await subscribed(c, "ali/#", 0, (m) => got.push([m.topic, m.topicAlias]));
    const p = await peer(plain, "alias-in-peer");
    for (let i = 0; i < 5; i++) await p.publishAsync("ali/same", `${i}`, { qos: 0 });
    await p.publishAsync("ali/same", "end", { qos: 1 });
    await until("6 messages", () => got.length === 6);
    expect(tap.seen("connect", true)[0].properties?.topicAliasMaximum).toBe(6);
    expect(got.every(([t, a]) => t === "ali/same" && a === 0)).toBe(true);
    expect(tap.seen("publish", false).every((p) => p.topic === "ali/same" && p.properties?.topicAlias === undefined)).toBe(true);
  });

  it("keeps at most the broker's receive maximum (3) of QoS 1/2 publishes unacknowledged", async () => {
    const tap = await V5Tap.start(limits.port);
    cleanup.push(() => tap.close());
    const c = v5(tap.port, "rxmax-broker", { inflight: 16 });
    await until("connected", () => c.connected);
    expect(c.server.receiveMaximum).toBe(3);
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    for (let i = 0; i < 30; i++) c.publish("rxm/t", `${i}`, i % 2 === 0 ? 1 : 2);
    await until("30 acknowledged", () => delivered.length === 30, 10000);
    // Replay the wire: a publish is in flight from PUBLISH until PUBACK / PUBCOMP.
    let open = 0, most = 0;
    const inFlight = new Set<number>();
    for (const p of tap.packets) {
      if (p.cmd === "publish" && p.up && p.qos > 0) inFlight.add(p.messageId!);
      if ((p.cmd === "puback" || p.cmd === "pubcomp") && !p.up) inFlight.delete(p.messageId!);
      open = inFlight.size; most = Math.max(most, open);
    }
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1); // it did use the window
    expect(c.errors).toEqual([]);
  });

  it("QoS 2 publishes queued offline beyond the broker's receive maximum (3) go out 3 at a time, none refused", async () => {
    const tap = await V5Tap.start(limits.port);
    cleanup.push(() => tap.close());
    const sub = await peer(limits, "rxmax-queued-sub");
    await peerSubscribe(sub, "rxq/t", { qos: 2 });
    const got: string[] = [];
    sub.on("message", (_t, payload) => got.push(payload.toString()));
    const c = v5(tap.port, "rxmax-queued", { inflight: 8, connect: false });
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    for (let i = 0; i < 8; i++) c.publish("rxq/t", `${i}`, 2);
    c.setLink(true);
    await until("8 delivered or a failure", () => delivered.length === 8 || c.errors.length > 0, 5000);
    // Before a fix mosquitto answered PUBREC 0x97 Quota exceeded to publishes 4, 6 and 8: lost.
    expect(c.errors.map((e) => e.message)).toEqual([]);
    await until("all 8 at the subscriber", () => got.length === 8);
    expect(got).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    let most = 0;
    const open = new Set<number>();
    for (const p of tap.packets) {
      if (p.cmd === "publish" && p.up && p.qos > 0) open.add(p.messageId!);
      if ((p.cmd === "puback" || p.cmd === "pubcomp") && !p.up) open.delete(p.messageId!);
      most = Math.max(most, open.size);
    }
    expect(most).toBeLessThanOrEqual(3);
  });

  it("announces its own receive maximum (2); mosquitto 2.0.11 sends past it, and every message still arrives once", async () => {
    const tap = await V5Tap.start(plain.port);
    cleanup.push(() => tap.close());
    const c = v5(tap.port, "rxmax-ours", { inflightIn: 2, properties: { receiveMaximum: 2 } });
    const got: string[] = [];
    await subscribed(c, "rxo/t", 2, (m) => got.push(m.text));
    expect(tap.seen("connect", true)[0].properties?.receiveMaximum).toBe(2);
    const p = await peer(plain, "rxmax-ours-peer");
    // In batches of 15: MQTT.js does not keep to mosquitto's receive maximum (20) and would get 0x97 Quota exceeded.
    for (let b = 0; b < 60; b += 15) await Promise.all(Array.from({ length: 15 }, (_, i) => p.publishAsync("rxo/t", `${b + i}`, { qos: 2 })));
    await until("60 messages", () => got.length === 60, 10000);
    expect(got).toEqual(Array.from({ length: 60 }, (_, i) => `${i}`));
    // mosquitto 2.0.11 keeps to a client's Receive Maximum only for the first messages, then sends bursts past it
    // (seen: 8 to 16 QoS 2 messages awaiting PUBCOMP with 2 allowed): the client tolerates it and says so.
    expect(c.errors.filter((e) => e.code !== ErrorCode.InflightFull)).toEqual([]);
    expect(c.closes).toEqual([]);
  });

  it("maximum packet size, the broker's (600): a bigger publish is refused here, the connection stays", async () => {
    const c = v5(limits, "maxpkt-broker");
    await until("connected", () => c.connected);
    expect(c.server.maximumPacketSize).toBe(600);
    let threw: MQTTError | undefined;
    try { c.publish("mp/t", new Uint8Array(1000), 1); } catch (e) { threw = e as MQTTError; }
    const reported = threw ?? c.errors[0];
    expect(reported).toBeDefined();
    expect(reported!.message).toMatch(/600/);
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    c.publish("mp/t", new Uint8Array(500), 1);
    await until("the 500-byte one acknowledged", () => delivered.length === 1);
    expect(c.connected).toBe(true);
    expect(c.closes).toEqual([]);
  });

  it("maximum packet size, ours (from rxBuffer): mosquitto drops what would not fit instead of sending it", async () => {
    const tap = await V5Tap.start(plain.port);
    cleanup.push(() => tap.close());
    const c = v5(tap.port, "maxpkt-ours", { rxBuffer: 300 });
    const got: number[] = [];
    await subscribed(c, "mpo/t", 1, (m) => got.push(m.length));
    const announced = tap.seen("connect", true)[0].properties?.maximumPacketSize;
    expect(announced).toBeGreaterThanOrEqual(300);
    expect(announced).toBeLessThan(320);
    const p = await peer(plain, "maxpkt-ours-peer");
    await p.publishAsync("mpo/t", Buffer.alloc(2000), { qos: 1 });
    await p.publishAsync("mpo/t", Buffer.alloc(100), { qos: 1 });
    await until("the small one", () => got.length === 1);
    expect(got).toEqual([100]);
    expect(tap.seen("publish", false).every((q) => q.size <= announced!)).toBe(true);
    expect(c.errors.filter((e) => e.code === ErrorCode.PacketTooLarge)).toEqual([]);
  });

  it("session expiry: a session kept 60 s is present again after a reconnect, with what was queued meanwhile", async () => {
    const first = v5(plain, "sess-keep", { cleanSession: false, properties: { sessionExpiryInterval: 60 } });
    await subscribed(first, "sess/keep", 1);
    first.close();
    await gone("sess-keep");
    const p = await peer(plain, "sess-keep-peer");
    await p.publishAsync("sess/keep", "while away", { qos: 1 });
    const again = v5(plain, "sess-keep", { cleanSession: false, properties: { sessionExpiryInterval: 60 } });
    const got: string[] = [];
    again.onMessage = (m) => got.push(m.text);
    await until("CONNACK", () => again.connacks.length === 1);
    expect(again.connacks).toEqual([true]);
    await until("queued message", () => got.length === 1);
    expect(got).toEqual(["while away"]);
  });

  it("cleanSession false without an expiry keeps the session as 3.1.1 did (CONNECT says 0xFFFFFFFF)", async () => {
    const tap = await V5Tap.start(plain.port);
    cleanup.push(() => tap.close());
    const first = v5(tap.port, "sess-forever", { cleanSession: false });
    await subscribed(first, "sess/forever", 1);
    expect(tap.seen("connect", true)[0].properties?.sessionExpiryInterval).toBe(0xffffffff);
    first.close();
    await gone("sess-forever");
    const again = v5(plain, "sess-forever", { cleanSession: false });
    await until("CONNACK", () => again.connacks.length === 1);
    expect(again.connacks).toEqual([true]);
    again.close({ sessionExpiryInterval: 0 }); // do not leave it behind in the broker
  });

  it("session expiry 0 given with cleanSession false: the session ends with the connection", async () => {
    const first = v5(plain, "sess-zero", { cleanSession: false, properties: { sessionExpiryInterval: 0 } });
    await subscribed(first, "sess/zero", 1);
    first.close();
    await gone("sess-zero");
    const again = v5(plain, "sess-zero", { cleanSession: false, properties: { sessionExpiryInterval: 0 } });
    await until("CONNACK", () => again.connacks.length === 1);
    expect(again.connacks).toEqual([false]);
  });

  it("close({ sessionExpiryInterval: 0 }) ends a session CONNECT asked to keep", async () => {
    const first = v5(plain, "sess-end", { cleanSession: false, properties: { sessionExpiryInterval: 60 } });
    await subscribed(first, "sess/end", 1);
    first.close({ sessionExpiryInterval: 0 });
    await gone("sess-end");
    const again = v5(plain, "sess-end", { cleanSession: false, properties: { sessionExpiryInterval: 60 } });
    await until("CONNACK", () => again.connacks.length === 1);
    expect(again.connacks).toEqual([false]);
  });

  it("cleanSession true (Clean Start) discards a kept session", async () => {
    const first = v5(plain, "sess-clean", { cleanSession: false, properties: { sessionExpiryInterval: 60 } });
    await subscribed(first, "sess/clean", 1);
    first.close();
    await gone("sess-clean");
    const again = v5(plain, "sess-clean", { cleanSession: true, properties: { sessionExpiryInterval: 60 } });
    await until("CONNACK", () => again.connacks.length === 1);
    expect(again.connacks).toEqual([false]);
  });

  it("a session kept by expiry survives a mosquitto restart (persistence): present again, its subscription still delivers", async () => {
    const b = await Mosquitto.start({ persistence: true });
    cleanup.push(() => b.close());
    const c = v5(b, "sess-restart", { cleanSession: false, properties: { sessionExpiryInterval: 300 }, reconnect: { min: 50, max: 100 } });
    const got: string[] = [];
    await subscribed(c, "sr2/t", 1, (m) => got.push(m.text));
    const p = await peer(b, "sess-restart-peer", { clean: true, reconnectPeriod: 0 });
    await p.publishAsync("sr2/t", "before", { qos: 1 });
    await until("before", () => got.length === 1);
    p.end(true);
    await b.restart("SIGTERM"); // an orderly stop saves sessions
    await until("reconnected", () => c.connacks.length === 2 && c.connected, 10000);
    expect(c.connacks).toEqual([false, true]);
    const q = await peer(b, "sess-restart-peer2");
    await q.publishAsync("sr2/t", "after", { qos: 1 });
    await until("after", () => got.length === 2);
    expect(got).toEqual(["before", "after"]);
    c.close({ sessionExpiryInterval: 0 });
  });

  it("messageExpiryInterval reaches mosquitto: a 1 s message queued for an offline subscriber expires, a 60 s one arrives", async () => {
    const sub = await peer(plain, "expiry-sub", { clean: false, properties: { sessionExpiryInterval: 60 } });
    await peerSubscribe(sub, "exp/t");
    await new Promise<void>((r) => sub.end(false, {}, () => r()));
    const c = v5(plain, "expiry-pub");
    await until("connected", () => c.connected);
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    c.publish("exp/t", "short", { qos: 1, properties: { messageExpiryInterval: 1 } });
    c.publish("exp/t", "long", { qos: 1, properties: { messageExpiryInterval: 60 } });
    await until("both taken", () => delivered.length === 2);
    await new Promise((r) => setTimeout(r, 2500)); // past the short one's expiry
    const got: Array<[string, number | undefined]> = [];
    const back = mqtt.connect({ host: "127.0.0.1", port: plain.port, clientId: "expiry-sub", protocolVersion: 5, clean: false, reconnectPeriod: 0, properties: { sessionExpiryInterval: 0 } });
    cleanup.push(() => new Promise<void>((r) => back.end(true, {}, () => r())));
    back.on("message", (_t, payload, packet) => got.push([payload.toString(), packet.properties?.messageExpiryInterval]));
    await new Promise<void>((r) => back.once("connect", () => r()));
    await back.publishAsync("exp/t", "mark", { qos: 1 });
    await until("mark", () => got.some(([t]) => t === "mark"));
    expect(got.map(([t]) => t)).toEqual(["long", "mark"]);
    expect(got[0][1]).toBeLessThanOrEqual(58); // what was left of 60 s after the wait
  });

  it("DISCONNECT with reason 0x04 publishes the will (with its properties); a normal close does not", async () => {
    const watcher = await peer(plain, "will-watcher");
    await peerSubscribe(watcher, "will/#");
    const wills: Array<{ topic: string; payload: string; contentType?: string }> = [];
    watcher.on("message", (t, payload, packet) => wills.push({ topic: t, payload: payload.toString(), contentType: packet.properties?.contentType }));
    const will = (n: string) => ({ topic: `will/${n}`, payload: `gone-${n}`, qos: 1 as const, properties: { contentType: "text/plain" } });
    const normal = v5(plain, "will-normal", { will: will("normal") });
    const withWill = v5(plain, "will-04", { will: will("04") });
    await until("both connected", () => normal.connected && withWill.connected);
    normal.close();
    withWill.close({ reasonCode: 0x04 });
    await until("a will", () => wills.length >= 1);
    const p = await peer(plain, "will-mark");
    await p.publishAsync("will/mark", "mark", { qos: 1 });
    await until("mark", () => wills.some((w) => w.topic === "will/mark"));
    expect(wills.filter((w) => w.topic !== "will/mark")).toEqual([{ topic: "will/04", payload: "gone-04", contentType: "text/plain" }]);
  });

  it("a lost connection publishes the will after its willDelayInterval, with its properties", async () => {
    const watcher = await peer(plain, "willdelay-watcher");
    await peerSubscribe(watcher, "willdelay/#");
    const wills: Array<{ payload: string; props: Record<string, unknown> }> = [];
    watcher.on("message", (_t, payload, packet) => wills.push({ payload: payload.toString(), props: { ...packet.properties } }));
    const c = v5(plain, "willdelay", {
      properties: { sessionExpiryInterval: 30 },
      will: { topic: "willdelay/x", payload: "lost", qos: 1, properties: { willDelayInterval: 1, contentType: "text/plain", userProperties: { cause: "link" } } },
    });
    await until("connected", () => c.connected);
    c.disconnect(); // the link fails: no DISCONNECT
    await until("the will", () => wills.length === 1, 5000);
    expect(wills[0].payload).toBe("lost");
    expect(wills[0].props).toMatchObject({ contentType: "text/plain", userProperties: { cause: "link" } });
    c.close({ sessionExpiryInterval: 0 });
  });

  it("mosquitto's SUBACK/UNSUBACK reason codes: QoS capped by max_qos, 0x11 for a filter never subscribed", async () => {
    const c = v5(restricted, "subreason");
    await until("connected", () => c.connected);
    expect(c.server.maximumQoS).toBe(1);
    const granted = await subscribed(c, "sr/t", 2);
    expect(granted).toBe(1);
    expect(c.errors.map((e) => e.code)).toContain(ErrorCode.QosDowngraded);
    const unsub: string[] = [];
    c.onUnsubscribe = (f) => unsub.push(f);
    c.unsubscribe("sr/never");
    c.unsubscribe("sr/t");
    await until("2 UNSUBACKs", () => unsub.length === 2);
    // 0x11 "No subscription existed" is not a failure (below 0x80).
    expect(c.errors.filter((e) => e.code === ErrorCode.UnsubscribeFailed)).toEqual([]);
    expect(c.connected).toBe(true);
  });

  it("PUBACK and PUBREC 0x87 (an acl_file denies the topic) go to onError as PublishFailed, not onDelivered", async () => {
    const c = v5(acl, "puback-87");
    await until("connected", () => c.connected);
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    const denied1 = c.publish("secret/x", "s", 1);
    const denied2 = c.publish("secret/y", "s", 2);
    const ok = c.publish("open/x", "o", 1);
    await until("open/x delivered", () => delivered.includes(ok));
    await until("2 failures", () => c.errors.filter((e) => e.code === ErrorCode.PublishFailed).length === 2);
    const failed = c.errors.filter((e) => e.code === ErrorCode.PublishFailed);
    expect(failed.map((e) => e.reasonCode)).toEqual([0x87, 0x87]);
    expect(failed.map((e) => e.packetId)).toEqual([denied1, denied2]);
    for (const e of failed) expect(e.message).toMatch(/Not authorized/);
    expect(delivered).toEqual([ok]);
    // The slots are free again: more publishes go through on the same connection.
    const again = c.publish("open/y", "o", 2);
    await until("open/y delivered", () => delivered.includes(again));
    expect(c.connected).toBe(true);
  });

  it("PUBACK 0x10 'No matching subscribers' is success: onDelivered, no error", async () => {
    const c = v5(plain, "puback-10");
    await until("connected", () => c.connected);
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    const id = c.publish("nobody/listens/here", "x", 1);
    await until("delivered", () => delivered.length === 1);
    expect(delivered).toEqual([id]);
    expect(c.errors).toEqual([]);
  });

  it("message_size_limit: mosquitto answers 0x95 in PUBACK (not a PUBACK code in the spec); reported as PublishFailed", async () => {
    const c = v5(acl, "puback-95");
    await until("connected", () => c.connected);
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    const id = c.publish("open/big", new Uint8Array(200), 1);
    await until("an error", () => c.errors.length > 0);
    expect(c.errors[0].code).toBe(ErrorCode.PublishFailed);
    expect(c.errors[0].reasonCode).toBe(0x95);
    expect(c.errors[0].packetId).toBe(id);
    expect(delivered).toEqual([]);
  });

  it("enhanced authentication: mosquitto without a plugin answers CONNACK 0x8C, reported by name", async () => {
    const c = v5(plain, "auth-refused", { properties: { authenticationMethod: "SCRAM-SHA-256", authenticationData: "n,,n=user,r=abc" } });
    await until("refused", () => c.errors.length > 0);
    const e = c.errors[0];
    expect(e.code).toBe(ErrorCode.ConnectionRefused);
    expect(e.reasonCode).toBe(0x8c);
    expect(e.message).toMatch(/Bad authentication method/);
    expect(c.connected).toBe(false);
  });

  it("server keep alive (max_keepalive 10) overrides the 60 s asked for", async () => {
    const c = v5(limits, "server-keepalive", { keepalive: 60 });
    await until("connected", () => c.connected);
    expect(c.server.serverKeepAlive).toBe(10);
    expect(c.session.keepalive).toBe(10);
  });

  it("max_qos 0: QoS 1 publishes refused here (NotSupported), one queued before the CONNACK dropped, subscriptions granted 0", async () => {
    const b = await Mosquitto.start({ config: ["max_qos 0"] });
    cleanup.push(() => b.close());
    const c = v5(b, "qos0-only", { connect: false });
    const queued = c.publish("q0/t", "queued", 1);
    c.setLink(true);
    await until("connected", () => c.connected);
    expect(c.server.maximumQoS).toBe(0);
    await until("the queued one reported", () => c.errors.length === 1);
    expect([c.errors[0].code, c.errors[0].packetId]).toEqual([ErrorCode.NotSupported, queued]);
    expect(() => c.publish("q0/t", "live", 1)).toThrow(/QoS/);
    const got: string[] = [];
    expect(await subscribed(c, "q0/t", 1, (m) => got.push(`${m.qos}:${m.text}`))).toBe(0);
    c.publish("q0/t", "fine", 0);
    await until("the QoS 0 one back", () => got.length === 1);
    expect(got).toEqual(["0:fine"]);
    expect(c.closes).toEqual([]);
  });

  // A publish queued while offline cannot be checked against limits not yet known: after the CONNACK it must be
  // checked before it goes out, else the broker disconnects and the resend after each reconnect does it again.
  for (const [what, broker, publish, sentAs] of [
    ["a QoS 1 publish over max_packet_size is dropped", () => limits, (c: MQTTClient) => c.publish("queued/big", new Uint8Array(1000), 1), undefined],
    ["a retained publish (retain_available false) goes without retain", () => restricted,
      (c: MQTTClient) => c.publish("queued/retained", "r", { qos: 1, retain: true }), { topic: "queued/retained", qos: 1, retain: false }],
    ["a QoS 2 publish (max_qos 1) goes at QoS 1", () => restricted, (c: MQTTClient) => c.publish("queued/qos2", "q", 2), { topic: "queued/qos2", qos: 1, retain: false }],
  ] as const) {
    it(`queued before the CONNACK, ${what}, reported; no DISCONNECT loop`, async () => {
      const tap = await V5Tap.start(broker().port);
      cleanup.push(() => tap.close());
      const c = v5(tap.port, `queued-${what.length}`, { connect: false, reconnect: { min: 50, max: 100 } });
      const id = publish(c);
      expect(id).toBeGreaterThan(0); // taken: the limits are not known yet
      const delivered: number[] = [];
      c.onDelivered = (d) => delivered.push(d);
      const ok = c.publish("queued/ok", "ok", 1);
      c.setLink(true);
      await until("the good publish delivered", () => delivered.includes(ok), 3000);
      expect(c.errors.length).toBe(1);
      expect(c.errors[0].packetId).toBe(id);
      const out = tap.seen("publish", true).filter((p) => p.topic !== "queued/ok");
      if (sentAs) {
        await until("the queued one delivered too", () => delivered.includes(id));
        expect(out.map((p) => ({ topic: p.topic, qos: p.qos, retain: p.retain }))).toEqual([sentAs]);
      } else {
        expect(out).toEqual([]);
        expect(delivered).toEqual([ok]);
      }
      expect(tap.seen("disconnect", false)).toEqual([]);
      expect(tap.seen("connect", true).length).toBe(1);
      expect(c.closes).toEqual([]);
    });
  }

  it("retain_available false and max_qos 1: a retained or QoS 2 publish is refused here, before mosquitto would disconnect", async () => {
    const c = v5(restricted, "flags");
    await until("connected", () => c.connected);
    expect(c.server.retainAvailable).toBe(false);
    expect(c.server.maximumQoS).toBe(1);
    const refused = (f: () => unknown): MQTTError | undefined => {
      const before = c.errors.length;
      try { f(); } catch (e) { return e as MQTTError; }
      return c.errors[before];
    };
    const r = refused(() => c.publish("fl/t", "x", { qos: 1, retain: true }));
    expect(r?.code).toBe(ErrorCode.NotSupported);
    expect(r?.message).toMatch(/retain/i);
    const q = refused(() => c.publish("fl/t", "x", 2));
    expect(q?.code).toBe(ErrorCode.NotSupported);
    expect(q?.message).toMatch(/QoS/);
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    c.publish("fl/t", "fine", 1);
    await until("a plain QoS 1 still works", () => delivered.length === 1);
    expect(c.closes).toEqual([]);
  });
});
