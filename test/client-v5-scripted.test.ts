// The MQTT 5.0 client against a scripted 5.0 server (test/support/v5-broker.ts: mqtt-packet over a real loopback
// socket) for what mosquitto 2.0.11 cannot be made to do without plugins: the enhanced AUTH exchange, a server
// reference, a DISCONNECT with a reason, PUBACK/PUBREC >= 0x80 with a reason string, SUBACK/UNSUBACK failures,
// a 1 s server keep alive, topic aliases towards the client, unavailable wildcards / subscription ids / shared
// subscriptions. The server holds the client to the limits its CONNACK announced and answers a breach with
// DISCONNECT, so every case also checks that the client kept to them.
import { afterEach, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import mqttPacket, { type Packet, type IPublishPacket } from "mqtt-packet";
import { connect } from "node:net";
import { MQTTClient, ErrorCode, Properties, type MQTTError, type MQTTClientOptions, type Message } from "../src/mqtt/client";
import { TcpTransport } from "../src/net/tcp-transport";
import { V5Server, type V5ServerOptions } from "./support/v5-broker.ts";
import { until, sleep } from "./support/wait.ts";

import { type Client, v5Client } from "./support/v5-client.ts";

const cleanup: Array<() => unknown> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function server(options: V5ServerOptions = {}): Promise<V5Server> {
  const s = await V5Server.start(options);
  cleanup.push(() => s.close());
  return s;
}

function v5(port: number, extra: Partial<MQTTClientOptions> = {}): Client {
  return v5Client(port, "scripted", cleanup, { rxBuffer: 1024, txBuffer: 1024, queue: 8192, ...extra });
}

const str = (b: Buffer | Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString("utf8"));

describe("the scripted server itself, checked with MQTT.js 5", () => {
  it("accepts, acknowledges with the chosen reason, routes nothing, and disconnects a breach of its limits", async () => {
    const s = await server({ connack: { topicAliasMaximum: 1, receiveMaximum: 5 }, publishReason: (p) => (p.topic === "deny" ? 0x87 : 0) });
    const m = mqtt.connect({ host: "127.0.0.1", port: s.port, protocolVersion: 5, clientId: "mqttjs", reconnectPeriod: 0 });
    cleanup.push(() => m.end(true));
    await new Promise<void>((r) => m.once("connect", () => r()));
    await m.publishAsync("ok", "x", { qos: 1 });
    await expect(m.publishAsync("deny", "x", { qos: 1 })).rejects.toThrow(/Not authorized|135/);
    const conn = await s.connection(0);
    expect(conn.all("publish").map((p) => p.topic)).toEqual(["ok", "deny"]);
    expect(conn.disconnectedWith).toBeUndefined();
    // Topic alias 2 when the CONNACK allowed 1 (MQTT.js will not send that, so raw bytes): DISCONNECT 0x94 Topic Alias invalid.
    const raw = connect(s.port, "127.0.0.1");
    cleanup.push(() => raw.destroy());
    const gen = (p: Packet) => raw.write(mqttPacket.generate(p, { protocolVersion: 5 }));
    gen({ cmd: "connect", protocolVersion: 5, clientId: "raw", keepalive: 10, clean: true });
    gen({ cmd: "publish", topic: "t", payload: "y", qos: 0, retain: false, dup: false, properties: { topicAlias: 2 } });
    const breach = await s.connection(1);
    await until("server disconnected it", () => breach.closed);
    expect(breach.accepted).toBe(true);
    expect(breach.disconnectedWith).toBe(0x94);
  });
});

describe("MQTT 5.0 against the scripted server", () => {
  it("completes an enhanced AUTH exchange (CONNECT, AUTH 0x18 both ways, CONNACK) through onAuth", async () => {
    const s = await server({
      onConnect: (conn, connect) => {
        if (connect.properties?.authenticationMethod !== "SCRAM-SHA-256") return { reasonCode: 0x8c };
        conn.send({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM-SHA-256", authenticationData: Buffer.from("server-first") } });
        return "wait";
      },
      onAuth: (conn, auth) => {
        const ok = auth.reasonCode === 0x18 && auth.properties?.authenticationMethod === "SCRAM-SHA-256" && str(auth.properties?.authenticationData) === "client-final";
        conn.send(ok
          ? { cmd: "connack", sessionPresent: false, reasonCode: 0, properties: { authenticationMethod: "SCRAM-SHA-256", authenticationData: Buffer.from("server-final") } }
          : { cmd: "connack", sessionPresent: false, reasonCode: 0x87 });
      },
    });
    const asked: Array<[number, string | undefined, string | undefined]> = [];
    const c = v5(s.port, { properties: { authenticationMethod: "SCRAM-SHA-256", authenticationData: "client-first" } });
    c.onAuth = (reason, method, data) => {
      asked.push([reason, method, str(data)]);
      return reason === 0x18 ? "client-final" : undefined;
    };
    await until("connected", () => c.connected);
    const conn = s.connections[0];
    expect(conn.connect!.properties?.authenticationMethod).toBe("SCRAM-SHA-256");
    expect(str(conn.connect!.properties?.authenticationData)).toBe("client-first");
    // The CONNACK's final data reaches onAuth too (reason 0), so the application can check the server's last step.
    expect(asked).toEqual([[0x18, "SCRAM-SHA-256", "server-first"], [0, "SCRAM-SHA-256", "server-final"]]);
    const auths = conn.all("auth");
    expect(auths.length).toBe(1);
    expect(c.server.authenticationMethod).toBe("SCRAM-SHA-256");
    expect(c.errors).toEqual([]);
  });

  it("reports a failed AUTH exchange: CONNACK 0x87 by name", async () => {
    const s = await server({
      onConnect: (conn) => {
        conn.send({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "PLAIN-TOKEN", authenticationData: Buffer.from("challenge") } });
        return "wait";
      },
      onAuth: (conn) => conn.send({ cmd: "connack", sessionPresent: false, reasonCode: 0x87, properties: { reasonString: "token expired" } }),
    });
    const c = v5(s.port, { properties: { authenticationMethod: "PLAIN-TOKEN" } });
    c.onAuth = () => "wrong";
    await until("refused", () => c.errors.length > 0);
    expect(c.errors[0].code).toBe(ErrorCode.ConnectionRefused);
    expect(c.errors[0].reasonCode).toBe(0x87);
    expect(c.errors[0].message).toMatch(/Not authorized/);
    expect(c.errors[0].message).toMatch(/token expired/);
    expect(c.connected).toBe(false);
  });

  it("answers AUTH from a server when it asked for no enhanced authentication with DISCONNECT 0x82", async () => {
    const s = await server({
      onConnect: (conn) => {
        conn.send({ cmd: "connack", sessionPresent: false, reasonCode: 0 });
        conn.send({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "X" } });
        return "wait";
      },
    });
    const c = v5(s.port);
    const conn = await s.connection(0);
    const d = await conn.next((p) => p.cmd === "disconnect");
    expect((d as { reasonCode?: number }).reasonCode).toBe(0x82);
    await until("client reported it", () => c.errors.length > 0);
    expect(c.errors[0].code).toBe(ErrorCode.ProtocolViolation);
  });

  it("re-authenticates on request: AUTH 0x19 out, the server's AUTH 0x00 through onAuth", async () => {
    const s = await server({
      onConnect: () => ({ reasonCode: 0, properties: { authenticationMethod: "TOKEN" } }),
      onAuth: (conn, auth) => {
        if (auth.reasonCode === 0x19) conn.send({ cmd: "auth", reasonCode: 0, properties: { authenticationMethod: "TOKEN", authenticationData: Buffer.from("renewed") } });
      },
    });
    const asked: Array<[number, string | undefined]> = [];
    const c = v5(s.port, { properties: { authenticationMethod: "TOKEN", authenticationData: "t1" } });
    c.onAuth = (reason, _m, data) => { asked.push([reason, str(data)]); return undefined; };
    await until("connected", () => c.connected);
    c.reauthenticate("t2");
    await until("AUTH 0x00 seen", () => asked.some(([, d]) => d === "renewed"));
    const conn = s.connections[0];
    const a = conn.all("auth")[0];
    expect(a.reasonCode).toBe(0x19);
    expect(a.properties?.authenticationMethod).toBe("TOKEN");
    expect(str(a.properties?.authenticationData)).toBe("t2");
    // The CONNACK (method, no data) reaches onAuth first, as reason 0; then the re-authentication's AUTH 0x00.
    expect(asked).toEqual([[0, undefined], [0, "renewed"]]);
    expect(c.connected).toBe(true);
  });

  it("reports CONNACK 0x9C Use another server with the server reference, then connects there", async () => {
    const other = await server();
    const s = await server({ onConnect: () => ({ reasonCode: 0x9c, properties: { serverReference: `127.0.0.1:${other.port}` } }) });
    const c = v5(s.port, { reconnect: { min: 20, max: 50 } });
    await until("refused", () => c.errors.length > 0);
    const e = c.errors[0];
    expect(e.code).toBe(ErrorCode.ConnectionRefused);
    expect(e.reasonCode).toBe(0x9c);
    expect(e.message).toMatch(/Use another server/);
    expect(e.message).toContain(`127.0.0.1:${other.port}`);
    await until("connected to the other server", () => c.connected);
    expect(c.port).toBe(other.port);
    expect(other.connections.length).toBe(1);
    expect(s.connections.length).toBe(1);
  });

  it("follows a redirect once: the first of a space-separated reference list, then back to its own broker", async () => {
    const other = await server(), unused = await server();
    let refusals = 0;
    const s = await server({ onConnect: () => (refusals++ === 0 ? { reasonCode: 0x9d, properties: { serverReference: `127.0.0.1:${other.port} 127.0.0.1:${unused.port}` } } : {}) });
    const c = v5(s.port, { reconnect: { min: 20, max: 50 } });
    await until("connected to the referenced server", () => c.connected && other.connections.length === 1);
    expect(unused.connections.length).toBe(0);
    other.connections[0].disconnect(0x8b); // Server shutting down, no reference: back to the configured broker
    await until("connected to its own broker again", () => c.connected && s.connections.length === 2);
    expect(c.port).toBe(s.port);
    expect(c.closes.map((e) => e?.reasonCode)).toEqual([0x9d, 0x8b]); // the refused CONNACK ended a connection too
  });

  it("reports the broker's DISCONNECT with its reason code, name and reason string, then reconnects", async () => {
    const s = await server();
    const c = v5(s.port, { reconnect: { min: 20, max: 50 } });
    await until("connected", () => c.connected);
    (await s.connection(0)).disconnect(0x89, { reasonString: "maintenance in 5 min" });
    await until("closed", () => c.closes.length === 1);
    const e = c.closes[0]!;
    expect(e.code).toBe(ErrorCode.Disconnected);
    expect(e.reasonCode).toBe(0x89);
    expect(e.message).toMatch(/Server busy/);
    expect(e.message).toMatch(/maintenance in 5 min/);
    await until("reconnected", () => c.connacks.length === 2 && c.connected);
  });

  it("reports DISCONNECT 0x9D Server moved with its server reference, and reconnects to that server", async () => {
    const moved = await server();
    const s = await server();
    const c = v5(s.port, { reconnect: { min: 20, max: 50 } });
    await until("connected", () => c.connected);
    (await s.connection(0)).disconnect(0x9d, { serverReference: `127.0.0.1:${moved.port}` });
    await until("closed", () => c.closes.length === 1);
    expect(c.closes[0]!.code).toBe(ErrorCode.Disconnected);
    expect(c.closes[0]!.reasonCode).toBe(0x9d);
    expect(c.closes[0]!.message).toMatch(/Server moved/);
    await until("connected to the new server", () => c.connected && moved.connections.length === 1);
    expect(c.port).toBe(moved.port);
  });

  it("sends DISCONNECT with its reason code and reason string on close()", async () => {
    const s = await server();
    const c = v5(s.port);
    await until("connected", () => c.connected);
    c.close({ reasonCode: 0x04, reasonString: "going to sleep" });
    const conn = s.connections[0];
    const d = (await conn.next((p) => p.cmd === "disconnect", 5000, 0)) as { reasonCode?: number; properties?: { reasonString?: string } };
    expect(d.reasonCode).toBe(0x04);
    expect(d.properties?.reasonString).toBe("going to sleep");
  });

  it("PUBACK 0x97 and PUBREC 0x99 go to onError as PublishFailed with reason and reason string; no PUBREL follows", async () => {
    const s = await server({ publishReason: (p) => (p.topic === "quota" ? 0x97 : p.topic === "format" ? 0x99 : 0) });
    const c = v5(s.port);
    await until("connected", () => c.connected);
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    const q = c.publish("quota", "x", 1), f = c.publish("format", "x", 2), ok = c.publish("fine", "x", 2);
    await until("fine delivered", () => delivered.includes(ok));
    await until("2 failures", () => c.errors.length >= 2);
    expect(c.errors.map((e) => [e.code, e.reasonCode, e.packetId])).toEqual([[ErrorCode.PublishFailed, 0x97, q], [ErrorCode.PublishFailed, 0x99, f]]);
    expect(c.errors[0].message).toMatch(/Quota exceeded/);
    expect(c.errors[1].message).toMatch(/Payload format invalid/);
    expect(delivered).toEqual([ok]);
    const conn = s.connections[0];
    expect(conn.all("pubrel").map((p) => p.messageId)).toEqual([ok]);
    expect(conn.disconnectedWith).toBeUndefined();
  });

  it("includes the PUBACK's reason string in the error", async () => {
    const s = await server({ holdAcks: true });
    const c = v5(s.port);
    await until("connected", () => c.connected);
    const conn = await s.connection(0);
    const id = c.publish("t", "x", 1);
    await until("held", () => conn.unacknowledged.length === 1);
    conn.unacknowledged.pop();
    conn.send({ cmd: "puback", messageId: id, reasonCode: 0x83, properties: { reasonString: "disk full" } });
    await until("error", () => c.errors.length === 1);
    expect(c.errors[0].reasonCode).toBe(0x83);
    expect(c.errors[0].message).toMatch(/Implementation specific error/);
    expect(c.errors[0].message).toMatch(/disk full/);
  });

  it("SUBACK 0x87 and UNSUBACK 0x87: SubscribeFailed / UnsubscribeFailed by name", async () => {
    const s = await server({ subscribeReason: (t, q) => (t.startsWith("secret") ? 0x87 : q), unsubscribeReason: (t) => (t === "keep/#" ? 0x87 : 0) });
    const c = v5(s.port);
    const granted: Array<[string, number]> = [];
    c.onSubscribe = (f, g) => granted.push([f, g]);
    c.subscribe("secret/#", 1);
    c.subscribe("keep/#", 1);
    await until("2 SUBACKs", () => granted.length === 2);
    expect(granted).toEqual([["secret/#", 0x87], ["keep/#", 1]]);
    const sf = c.errors.find((e) => e.code === ErrorCode.SubscribeFailed)!;
    expect(sf.reasonCode).toBe(0x87);
    expect(sf.message).toMatch(/secret\/#/);
    expect(sf.message).toMatch(/Not authorized/);
    c.unsubscribe("keep/#");
    await until("UnsubscribeFailed", () => c.errors.some((e) => e.code === ErrorCode.UnsubscribeFailed));
    const uf = c.errors.find((e) => e.code === ErrorCode.UnsubscribeFailed)!;
    expect(uf.reasonCode).toBe(0x87);
    expect(uf.message).toMatch(/keep\/#/);
  });

  it("server keep alive 1 s overrides 60 s: PINGREQ within the second", async () => {
    const s = await server({ connack: { serverKeepAlive: 1 } });
    const c = v5(s.port, { keepalive: 60 });
    await until("connected", () => c.connected);
    expect(c.server.serverKeepAlive).toBe(1);
    expect(c.session.keepalive).toBe(1);
    const conn = s.connections[0];
    // At keepalive 60 no PINGREQ would come for a minute; at 1 s two come within 5 s.
    await conn.next((p) => p.cmd === "pingreq", 5000);
    await conn.next((p) => p.cmd === "pingreq", 5000);
    expect(c.connected).toBe(true);
  });

  it("resolves topic aliases the server uses towards it, up to the maximum it announced", async () => {
    const s = await server();
    const c = v5(s.port, { properties: { topicAliasMaximum: 2 } });
    const got: Array<[string, number, string]> = [];
    c.onMessage = (m: Message) => got.push([m.topic, m.topicAlias, m.text]);
    await until("connected", () => c.connected);
    const conn = s.connections[0];
    expect(conn.connect!.properties?.topicAliasMaximum).toBe(2);
    for (let i = 0; i < 3; i++) for (const t of ["al/a", "al/b", "al/c"]) conn.publish(t, `${t}#${i}`, { alias: true, qos: i === 2 ? 1 : 0 });
    await until("9 messages", () => got.length === 9);
    expect(got.map(([t, , x]) => [t, x])).toEqual([0, 1, 2].flatMap((i) => ["al/a", "al/b", "al/c"].map((t) => [t, `${t}#${i}`])));
    // al/a and al/b got aliases 1 and 2 (the table is full for al/c); later copies carried only the alias.
    expect(got.map(([, a]) => a)).toEqual([1, 2, 0, 1, 2, 0, 1, 2, 0]);
    await until("3 PUBACKs", () => conn.all("puback").length === 3);
  });

  it("dispatches alias-only messages to the matching subscription's handler, topicIs reading the alias table", async () => {
    const s = await server();
    const c = v5(s.port, { properties: { topicAliasMaximum: 1 } });
    const got: Array<[string, boolean, string]> = [];
    let granted = -1;
    c.onSubscribe = (_f, g) => { granted = g; };
    c.subscribe("dev/+/temp", 1, (m) => got.push([m.topic, m.topicIs("dev/kitchen/temp"), m.text]));
    c.subscribe("other/#", 1, () => got.push(["WRONG", false, ""]));
    await until("SUBACKs", () => granted === 1 && s.connections[0].all("subscribe").length === 2);
    const conn = s.connections[0];
    for (let i = 0; i < 4; i++) conn.publish("dev/kitchen/temp", `${20 + i}`, { alias: true, qos: 1 });
    await until("4 messages", () => got.length === 4);
    expect(got).toEqual([0, 1, 2, 3].map((i) => ["dev/kitchen/temp", true, `${20 + i}`]));
    await until("4 PUBACKs", () => conn.all("puback").length === 4); // sent after the handler ran
    expect(conn.all("puback").map((p) => p.reasonCode ?? 0)).toEqual([0, 0, 0, 0]);
  });

  it("resolves aliases and reads properties with the socket read 5 bytes at a time", async () => {
    const s = await server();
    const c = v5(s.port, { properties: { topicAliasMaximum: 3 }, transport: new TcpTransport(5) });
    const got: string[] = [];
    c.onMessage = (m) => got.push(`${m.topic}|${m.text}|${m.contentType}|${m.userProperty("n")}|${m.topicAlias}`);
    await until("connected", () => c.connected);
    const conn = s.connections[0];
    const want: string[] = [];
    for (let i = 0; i < 24; i++) {
      const t = `split/${i % 4}/${"t".repeat(i % 4 * 20)}`, text = "x".repeat((i * 37) % 200);
      const p = conn.publish(t, text, { alias: true, qos: (i % 3) as 0 | 1 | 2, properties: { contentType: `c${i}`, userProperties: { n: `${i}` } } });
      want.push(`${t}|${text}|c${i}|${i}|${p.properties?.topicAlias ?? 0}`);
    }
    await until("24 messages", () => got.length === 24);
    expect(got).toEqual(want);
    expect(got.filter((g) => g.endsWith("|0")).length).toBeGreaterThan(0); // the 4th topic had no alias left
    expect(c.errors).toEqual([]);
  });

  it("a topic longer than topicAliasBytes: the first copy delivered, alias-only copies refused with PUBACK 0x83", async () => {
    const s = await server();
    const c = v5(s.port, { properties: { topicAliasMaximum: 2 }, topicAliasBytes: 16 });
    const got: string[] = [];
    c.onMessage = (m) => got.push(m.text);
    await until("connected", () => c.connected);
    const conn = s.connections[0];
    const long = `long/${"x".repeat(40)}`;
    conn.publish(long, "with topic", { alias: true, qos: 1 });
    conn.publish(long, "alias only", { alias: true, qos: 1 });
    conn.publish("end", "end", { qos: 1 });
    await until("end", () => got.includes("end"));
    expect(got).toEqual(["with topic", "end"]);
    await until("3 PUBACKs", () => conn.all("puback").length === 3);
    expect(conn.all("puback").map((p) => p.reasonCode ?? 0)).toEqual([0, 0x83, 0]);
    expect(c.errors.some((e) => /topicAliasBytes/.test(e.message))).toBe(true);
    expect(conn.disconnectedWith).toBeUndefined();
  });

  it("a payload that breaks its UTF-8 payload format is refused: PUBACK/PUBREC 0x99, QoS 0 dropped, never delivered", async () => {
    const s = await server();
    const c = v5(s.port);
    const got: string[] = [];
    c.onMessage = (m) => got.push(m.topic);
    await until("connected", () => c.connected);
    const conn = s.connections[0];
    const bad = Buffer.from([0x61, 0xc3, 0x28]);
    for (const qos of [0, 1, 2] as const) conn.publish(`bad/${qos}`, bad, { qos, properties: { payloadFormatIndicator: true } });
    conn.publish("good", Buffer.from("ü"), { qos: 1, properties: { payloadFormatIndicator: true } });
    await until("good", () => got.includes("good"));
    expect(got).toEqual(["good"]);
    await until("2 PUBACKs and a PUBREC", () => conn.all("puback").length === 2 && conn.all("pubrec").length === 1);
    expect(conn.all("puback").map((p) => p.reasonCode ?? 0)).toEqual([0x99, 0]);
    expect(conn.all("pubrec").map((p) => p.reasonCode ?? 0)).toEqual([0x99]);
    expect(c.errors.filter((e) => e.reasonCode === 0x99).length).toBe(3);
  });

  it("a topic alias above the announced maximum is a protocol error: DISCONNECT 0x94", async () => {
    const s = await server();
    const c = v5(s.port, { properties: { topicAliasMaximum: 2 } });
    await until("connected", () => c.connected);
    const conn = s.connections[0];
    conn.send({ cmd: "publish", topic: "x", payload: "y", qos: 0, retain: false, dup: false, properties: { topicAlias: 3 } });
    const d = (await conn.next((p) => p.cmd === "disconnect")) as { reasonCode?: number };
    expect(d.reasonCode).toBe(0x94);
    await until("reported", () => c.errors.length > 0 || c.closes.length > 0);
  });

  it("an alias never set (empty topic) ends the connection: DISCONNECT 0x94 (mosquitto says 0x82 for the same)", async () => {
    const s = await server();
    const c = v5(s.port, { properties: { topicAliasMaximum: 2 } });
    await until("connected", () => c.connected);
    const conn = s.connections[0];
    conn.send({ cmd: "publish", topic: "", payload: "y", qos: 0, retain: false, dup: false, properties: { topicAlias: 1 } });
    const d = (await conn.next((p) => p.cmd === "disconnect")) as { reasonCode?: number };
    // The spec names no code for it: 0x94 Topic Alias invalid and 0x82 Protocol Error both describe it.
    expect([0x82, 0x94]).toContain(d.reasonCode);
  });

  it("uses outgoing aliases within the server's maximum and starts a new table on a new connection", async () => {
    const s = await server({ connack: { topicAliasMaximum: 2 } });
    const c = v5(s.port, { reconnect: { min: 20, max: 50 } });
    await until("connected", () => c.connected);
    const topics = ["o/1", "o/2", "o/3"];
    for (let i = 0; i < 4; i++) for (const t of topics) c.publish(t, `${i}`, 0);
    const first = s.connections[0];
    await until("12 publishes", () => first.all("publish").length === 12);
    expect(first.all("publish").map((p) => p.resolvedTopic)).toEqual([0, 1, 2, 3].flatMap(() => topics));
    expect(first.all("publish").some((p) => p.topic === "")).toBe(true);
    c.disconnect();
    await until("reconnected", () => c.connacks.length === 2 && c.connected);
    for (const t of topics) c.publish(t, "again", 0);
    const second = s.connections[1];
    await until("3 publishes on the new connection", () => second.all("publish").length === 3);
    // The new connection's first publish of each topic carries the topic: aliases do not outlive a connection.
    expect(second.all("publish").map((p) => p.topic)).toEqual(topics);
    expect(first.disconnectedWith).toBeUndefined();
    expect(second.disconnectedWith).toBeUndefined();
  });

  it("keeps at most the server's receive maximum (2) unacknowledged, and sends the rest as acks come", async () => {
    const s = await server({ connack: { receiveMaximum: 2 }, holdAcks: true });
    const c = v5(s.port, { inflight: 8 });
    await until("connected", () => c.connected);
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    for (let i = 0; i < 7; i++) c.publish("rm/t", `${i}`, 1);
    const conn = s.connections[0];
    await until("2 held", () => conn.unacknowledged.length === 2);
    expect(conn.all("publish").length).toBe(2);
    while (delivered.length < 7) {
      await until("publishes held", () => conn.unacknowledged.length > 0);
      const acked = delivered.length + conn.unacknowledged.length;
      conn.release();
      await until("their acks taken", () => delivered.length >= acked);
    }
    expect(conn.all("publish").map((p) => String(p.payload))).toEqual(["0", "1", "2", "3", "4", "5", "6"]);
    expect(conn.disconnectedWith).toBeUndefined();
  });

  it("resends in-flight publishes within a smaller receive maximum after a reconnect", async () => {
    let n = 0;
    const s = await server({ onConnect: () => ({ reasonCode: 0, properties: { receiveMaximum: n++ === 0 ? 10 : 2 } }), holdAcks: true });
    const c = v5(s.port, { inflight: 8, reconnect: { min: 20, max: 50 } });
    await until("connected", () => c.connected);
    const delivered: number[] = [];
    c.onDelivered = (id) => delivered.push(id);
    for (let i = 0; i < 6; i++) c.publish("rm2/t", `${i}`, 1);
    const first = s.connections[0];
    await until("6 held on the first connection", () => first.unacknowledged.length === 6);
    first.socket.destroy(); // lost without acknowledgements: all 6 must go again
    const second = await s.connection(1);
    await until("2 held on the second connection, or a breach", () => second.unacknowledged.length === 2 || second.closed, 3000);
    expect(second.disconnectedWith).toBeUndefined(); // 0x93 Receive Maximum exceeded before a fix
    while (delivered.length < 6 && !second.closed) {
      await until("publishes held", () => second.unacknowledged.length > 0 || second.closed);
      const acked = delivered.length + second.unacknowledged.length;
      second.release();
      await until("their acks taken", () => delivered.length >= acked || second.closed);
    }
    expect(second.disconnectedWith).toBeUndefined();
    expect(second.all("publish").map((p) => String(p.payload))).toEqual(["0", "1", "2", "3", "4", "5"]);
  });

  it("a packet over the Maximum Packet Size it announced is a protocol error: DISCONNECT 0x95", async () => {
    const s = await server();
    const c = v5(s.port, { rxBuffer: 256 });
    const got: string[] = [];
    c.onMessage = (m) => got.push(m.topic);
    await until("connected", () => c.connected);
    const conn = s.connections[0];
    expect(conn.connect!.properties?.maximumPacketSize).toBe(259); // rxBuffer and the fixed header
    // Written past the server's own check (MQTT-3.1.2-24 forbids it): a misbehaving broker.
    const big: IPublishPacket = { cmd: "publish", topic: "big", payload: Buffer.alloc(1000), qos: 1, messageId: 9, retain: false, dup: false };
    conn.socket.write(mqttPacket.generate(big, { protocolVersion: 5 }));
    const d = (await conn.next((p) => p.cmd === "disconnect" || p.cmd === "puback")) as { cmd: string; reasonCode?: number };
    expect(d.cmd).toBe("disconnect");
    expect(d.reasonCode).toBe(0x95);
    expect(got).toEqual([]);
  });

  it("refuses a publish larger than the server's maximum packet size locally (the server never sees it)", async () => {
    const s = await server({ connack: { maximumPacketSize: 100 } });
    const c = v5(s.port);
    await until("connected", () => c.connected);
    let e: MQTTError | undefined;
    try { c.publish("mp", new Uint8Array(200), 1); } catch (x) { e = x as MQTTError; }
    e ??= c.errors[0];
    expect(e?.message).toMatch(/100/);
    c.publish("mp", new Uint8Array(20), 1);
    const conn = s.connections[0];
    await conn.next((p) => p.cmd === "publish", 5000, 0);
    expect(conn.all("publish").map((p) => p.payload.length)).toEqual([20]);
    expect(conn.disconnectedWith).toBeUndefined();
  });

  it("refuses locally what the CONNACK says is unavailable: wildcards, subscription identifiers, shared subscriptions", async () => {
    const s = await server({ connack: { wildcardSubscriptionAvailable: false, subscriptionIdentifiersAvailable: false, sharedSubscriptionAvailable: false } });
    const c = v5(s.port);
    await until("connected", () => c.connected);
    const refused = (f: () => unknown): MQTTError | undefined => {
      const before = c.errors.length;
      try { f(); } catch (x) { return x as MQTTError; }
      return c.errors[before];
    };
    for (const [what, f] of [
      ["wildcard", () => c.subscribe("a/#", 0)],
      ["subscription id", () => c.subscribe("a/b", { qos: 0, subscriptionIdentifier: 3 })],
      ["shared", () => c.subscribe("$share/g/a/b", 0)],
    ] as const) {
      const e = refused(f);
      expect(e?.code, what).toBe(ErrorCode.NotSupported);
    }
    let granted = -1;
    c.onSubscribe = (_f, g) => { granted = g; };
    c.subscribe("plain/topic", 1);
    await until("SUBACK for the plain filter", () => granted === 1);
    expect(s.connections[0].all("subscribe").map((p) => p.subscriptions.map((x) => x.topic))).toEqual([["plain/topic"]]);
  });

  it("reads the CONNACK's assigned client identifier, response information and session expiry", async () => {
    const s = await server({
      onConnect: (_c, connect) => ({ reasonCode: 0, properties: {
        assignedClientIdentifier: connect.clientId === "" ? "srv-42" : undefined, sessionExpiryInterval: 30,
        responseInformation: connect.properties?.requestResponseInformation ? "resp/srv-42" : undefined,
      } }),
    });
    const c = v5(s.port, { clientId: "", properties: { requestResponseInformation: true, sessionExpiryInterval: 3600 } });
    await until("connected", () => c.connected);
    const connect = s.connections[0].connect!;
    expect(connect.clientId).toBe("");
    expect(connect.properties?.sessionExpiryInterval).toBe(3600);
    expect(connect.properties?.requestResponseInformation).toBe(true);
    expect(c.server.assignedClientIdentifier).toBe("srv-42");
    expect(c.server.responseInformation).toBe("resp/srv-42");
    expect(c.server.sessionExpiryInterval).toBe(30);
  });

  it("sends CONNECT and DISCONNECT user properties, will properties and request flags as given", async () => {
    const s = await server();
    const c = v5(s.port, {
      will: { topic: "w/t", payload: "bye", qos: 1, properties: { willDelayInterval: 5, contentType: "text/plain", userProperties: { why: "power" } } },
      properties: { userProperties: { fw: "1.2.3", board: ["esp32", "s3"] }, requestProblemInformation: false, requestResponseInformation: true },
    });
    await until("connected", () => c.connected);
    c.close({ reasonCode: 0x04, userProperties: { battery: "low" }, sessionExpiryInterval: 0 });
    const conn = s.connections[0];
    const d = (await conn.next((p) => p.cmd === "disconnect", 5000, 0)) as { reasonCode?: number; properties?: Record<string, unknown> };
    const connect = conn.connect!;
    expect(connect.properties?.userProperties).toEqual({ fw: "1.2.3", board: ["esp32", "s3"] });
    expect(connect.properties?.requestProblemInformation).toBe(false);
    expect(connect.properties?.requestResponseInformation).toBe(true);
    expect(connect.will?.topic).toBe("w/t");
    expect(connect.will?.properties).toMatchObject({ willDelayInterval: 5, contentType: "text/plain", userProperties: { why: "power" } });
    expect(d.reasonCode).toBe(0x04);
    expect(d.properties).toMatchObject({ userProperties: { battery: "low" } });
  });

  it("topicAliases: 0 sends no aliases even when the server allows them; the default uses at most 4 of 10, none of 0", async () => {
    for (const [aliases, most, serverMax] of [[0, 0, 10], [undefined, 4, 10], [undefined, 0, undefined]] as const) {
      const s = await server({ connack: serverMax === undefined ? {} : { topicAliasMaximum: serverMax } });
      const c = v5(s.port, aliases === undefined ? {} : { topicAliases: aliases });
      await until("connected", () => c.connected);
      for (let r = 0; r < 3; r++) for (let t = 0; t < 6; t++) c.publish(`ta/${t}`, `${r}`, 0);
      const conn = s.connections[0];
      await until("18 publishes", () => conn.all("publish").length === 18);
      const used = new Set(conn.all("publish").map((p) => p.properties?.topicAlias).filter((a) => a !== undefined));
      expect(used.size, `topicAliases ${aliases}, server ${serverMax}`).toBe(most);
      expect(conn.disconnectedWith).toBeUndefined();
      expect(conn.all("publish").map((p) => p.resolvedTopic)).toEqual([0, 1, 2].flatMap(() => [0, 1, 2, 3, 4, 5].map((t) => `ta/${t}`)));
      c.close();
    }
  });

  it("onAuth giving no answer to AUTH 0x18 ends the attempt with a clear error", async () => {
    const s = await server({
      onConnect: (conn) => { conn.send({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "M" } }); return "wait"; },
      onAuth: () => {},
    });
    const c = v5(s.port, { properties: { authenticationMethod: "M" } });
    c.onAuth = () => undefined;
    await until("error", () => c.errors.length > 0);
    expect(c.errors[0].message).toMatch(/onAuth gave no data/);
    await until("connection closed", () => s.connections[0].closed);
    expect(c.connected).toBe(false);
  });

  it("a new connection starts afresh: no incoming alias carried over (0x94), server keep alive back to ours, SUBSCRIBE options resent", async () => {
    let n = 0;
    const s = await server({ onConnect: () => ({ reasonCode: 0, properties: n++ === 0 ? { serverKeepAlive: 2 } : {} }) });
    const c = v5(s.port, { properties: { topicAliasMaximum: 2 }, reconnect: { min: 20, max: 50 } });
    const got: string[] = [];
    c.onMessage = (m) => got.push(`${m.topic}=${m.text}`);
    c.subscribe("so/a", { qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 1, subscriptionIdentifier: 7 });
    await until("connected", () => c.connected);
    expect(c.session.keepalive).toBe(2);
    const first = s.connections[0];
    first.publish("al/x", "named", { alias: true });
    await until("first message", () => got.length === 1);
    first.socket.destroy();
    const second = await s.connection(1);
    await until("reconnected", () => c.connacks.length === 2 && c.connected);
    expect(c.session.keepalive).toBe(30);
    await until("SUBSCRIBE again", () => second.all("subscribe").length === 1);
    for (const conn of [first, second]) {
      const sub = conn.all("subscribe")[0];
      expect(sub.subscriptions).toEqual([{ topic: "so/a", qos: 2, nl: true, rap: true, rh: 1 }]);
      expect(sub.properties?.subscriptionIdentifier).toBe(7);
    }
    // MQTT-3.3.2-7: alias 1 meant al/x on the old connection only.
    second.send({ cmd: "publish", topic: "", payload: "stale", qos: 0, retain: false, dup: false, properties: { topicAlias: 1 } });
    const d = (await second.next((p) => p.cmd === "disconnect")) as { reasonCode?: number };
    expect(d.reasonCode).toBe(0x94);
    expect(got).toEqual(["al/x=named"]);
  });

  it("a QoS 2 publish PUBREC'd before the link fell is complete when the new session is fresh (no PUBREL into it)", async () => {
    let n = 0;
    // The first connection takes the publish (PUBREC) and leaves the PUBREL unanswered.
    const s = await server({ intercept: (_c, p) => p.cmd === "pubrel" && n === 1, onConnect: () => { n++; return {}; } });
    const c = v5(s.port, { reconnect: { min: 20, max: 50 } });
    await until("connected", () => c.connected);
    const delivered: number[] = [];
    c.onDelivered = (d) => delivered.push(d);
    c.publish("q2/t", "x", 2);
    const first = s.connections[0];
    await until("PUBREL on the first connection", () => first.all("pubrel").length === 1);
    first.socket.destroy();
    const second = await s.connection(1);
    await until("reconnected", () => c.connacks.length === 2 && c.connected);
    c.publish("q2/mark", "m", 1); // a barrier: anything for the old exchange would come before it
    await second.next((p) => p.cmd === "publish", 5000, 0);
    expect(c.connacks).toEqual([false, false]);
    // MQTT-3.2.2-5: Session Present 0, so the old exchange is discarded; the broker had the message since PUBREC.
    expect(second.all("pubrel")).toEqual([]);
    expect(c.errors.filter((e) => e.code === ErrorCode.PublishFailed)).toEqual([]);
  });

  for (const present of [false, true]) {
    it(`an incoming QoS 2 id awaiting PUBREL when the link fell: session present ${present ? 1 : 0} ${present ? "keeps it (a resend is a duplicate)" : "forgets it (the id is new)"}`, async () => {
      let n = 0;
      // The first connection never answers PUBREC (no PUBREL); the second CONNACK says whether the server kept the session.
      const s: V5Server = await server({
        onConnect: () => ({ reasonCode: 0, sessionPresent: n++ > 0 && present }),
        intercept: (conn, p) => p.cmd === "pubrec" && conn === s.connections[0],
      });
      const c = v5(s.port, { cleanSession: false, properties: { sessionExpiryInterval: 60 }, reconnect: { min: 20, max: 50 } });
      const got: string[] = [];
      c.onMessage = (m) => got.push(m.text);
      await until("connected", () => c.connected);
      const first = s.connections[0];
      first.send({ cmd: "publish", topic: "q2in", payload: "old", qos: 2, messageId: 3, retain: false, dup: false });
      await until("PUBREC", () => first.all("pubrec").length === 1);
      first.socket.destroy();
      const second = await s.connection(1);
      await until("reconnected", () => c.connacks.length === 2 && c.connected);
      // Session kept: the server resends its PUBLISH (DUP) for id 3 — a duplicate. Fresh: id 3 is a new message.
      const again: IPublishPacket = { cmd: "publish", topic: "q2in", payload: present ? "old" : "new", qos: 2, messageId: 3, retain: false, dup: present };
      second.outgoing.set(3, again); // so the server's own PUBREL follows the client's PUBREC
      second.send(again);
      await until("PUBCOMP", () => second.all("pubcomp").length >= 1);
      expect(second.all("pubrec").map((p) => p.reasonCode ?? 0)).toEqual([0]);
      expect(got).toEqual(present ? ["old"] : ["old", "new"]);
    });
  }

  it("close({ sessionExpiryInterval }) after a CONNECT with none throws (MQTT-3.14.2-2) and stays connected", async () => {
    const s = await server();
    const c = v5(s.port);
    await until("connected", () => c.connected);
    expect(() => c.close({ sessionExpiryInterval: 60 })).toThrow(/MQTT-3.14.2-2/);
    expect(c.connected).toBe(true);
    c.close();
    const d = (await s.connections[0].next((p) => p.cmd === "disconnect", 5000, 0)) as { properties?: { sessionExpiryInterval?: number } };
    expect(d.properties?.sessionExpiryInterval).toBeUndefined();
  });

  it("dispatches by subscription identifier: one copy with ids 5 and 9 reaches both handlers once; a copy with none only id-less ones", async () => {
    const s = await server();
    const c = v5(s.port);
    const h: string[] = [];
    c.subscribe("m/#", { qos: 1, subscriptionIdentifier: 5 }, (m) => h.push(`A ${m.text} ${m.subscriptionIdentifiers}`));
    c.subscribe("m/+", { qos: 1, subscriptionIdentifier: 9 }, (m) => h.push(`B ${m.text} ${m.subscriptionIdentifiers}`));
    c.subscribe("m/x", 1, (m) => h.push(`C ${m.text} ${m.subscriptionIdentifiers}`));
    await until("3 SUBACKs", () => s.connections[0]?.all("subscribe").length === 3 && c.session.subscriptions.list.every((x) => x.granted === 1));
    const conn = s.connections[0];
    conn.publish("m/x", "both", { qos: 1, properties: { subscriptionIdentifier: [5, 9] } });
    conn.publish("m/x", "none", { qos: 1 });
    conn.publish("m/x", "end", { qos: 1, properties: { subscriptionIdentifier: 5 } });
    await until("end", () => h.some((x) => x.startsWith("A end")));
    expect(h).toEqual(["A both 5,9", "B both 5,9", "C none ", "A end 5"]);
  });

  it("sends subscription options and identifier in SUBSCRIBE as given", async () => {
    const s = await server();
    const c = v5(s.port);
    let n = 0;
    c.onSubscribe = () => { n++; };
    c.subscribe("so/a", { qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2, subscriptionIdentifier: 300 });
    c.subscribe("so/b", { qos: 1 });
    await until("2 SUBACKs", () => n === 2);
    const subs = s.connections[0].all("subscribe");
    expect(subs[0].subscriptions).toEqual([{ topic: "so/a", qos: 2, nl: true, rap: true, rh: 2 }]);
    expect(subs[0].properties?.subscriptionIdentifier).toBe(300);
    expect(subs[1].subscriptions).toEqual([{ topic: "so/b", qos: 1, nl: false, rap: false, rh: 0 }]);
    expect(subs[1].properties?.subscriptionIdentifier).toBeUndefined();
  });
});

/** A seeded generator (the same sequence every run). */
function seeded(seed: number): () => number {
  return () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000; };
}

describe("random publish sequences against the scripted server (fixed seeds)", () => {
  const topics = ["a", "b/c", "dev/very/long/topic/name/x", "d", "e/é", "f"];

  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 400 publishes (QoS 0/1/2, string/bytes/number, 0-300 B, Properties/object/none) arrive exactly, aliases valid`, async () => {
      const r = seeded(seed);
      const s = await server({ connack: { topicAliasMaximum: 3, receiveMaximum: 5 } });
      const c = v5(s.port, { queue: 65536 });
      await until("connected", () => c.connected);
      const shared = new Properties({ contentType: "application/json", userProperties: { k: "v" } });
      const sent: string[] = [];
      for (let i = 0; i < 400; i++) {
        const t = topics[Math.floor(r() * topics.length)];
        const qos = (r() < 0.6 ? 0 : r() < 0.5 ? 1 : 2) as 0 | 1 | 2;
        const size = r() < 0.3 ? Math.floor(r() * 300) : Math.floor(r() * 20);
        const kind = r(), pk = r();
        const payload = kind < 0.3 ? `p${i}-${"y".repeat(size)}` : kind < 0.6 ? new Uint8Array(size).fill(i & 255) : i;
        const props = pk < 0.3 ? shared : pk < 0.5 ? { responseTopic: `resp/${i}`, correlationData: `c${i}` } : undefined;
        c.publish(t, payload, props ? { qos, properties: props } : qos);
        const bytes = typeof payload === "object" ? Buffer.from(payload) : Buffer.from(String(payload));
        sent.push(`${t}|${qos}|${bytes.toString("hex")}|${pk < 0.3 ? "json" : pk < 0.5 ? `resp/${i}` : "-"}`);
      }
      const conn = s.connections[0];
      await until("400 publishes", () => conn.all("publish").length >= 400 || conn.closed, 10000);
      expect(conn.disconnectedWith).toBeUndefined();
      const got = conn.all("publish").map((p) => `${p.resolvedTopic}|${p.qos}|${Buffer.from(p.payload as Buffer).toString("hex")}|${
        p.properties?.contentType === "application/json" ? "json" : p.properties?.responseTopic ?? "-"}`);
      expect(got).toEqual(sent);
      expect(conn.all("publish").some((p) => (p.properties?.topicAlias ?? 0) > 0)).toBe(true); // aliases were used
      expect(c.errors).toEqual([]);
    });

    it(`seed ${seed}: 400 publishes with the link cut at random: every QoS 1/2 arrives, no alias or limit breach`, async () => {
      const r = seeded(seed);
      const s = await server({ connack: { topicAliasMaximum: 3, receiveMaximum: 4 } });
      const c = v5(s.port, { inflight: 4, queue: 65536, reconnect: { min: 5, max: 10 } });
      await until("connected", () => c.connected);
      const want = new Set<string>();
      for (let chunk = 0; chunk < 8; chunk++) {
        for (let i = chunk * 50; i < chunk * 50 + 50; i++) {
          const t = topics[Math.floor(r() * topics.length)];
          const qos = (r() < 0.6 ? 0 : r() < 0.5 ? 1 : 2) as 0 | 1 | 2;
          c.publish(t, `p${i}`, r() < 0.3 ? { qos, properties: { contentType: "text/plain" } } : qos);
          if (qos > 0) want.add(`${t}|p${i}`);
        }
        await sleep(Math.floor(r() * 5));
        if (r() < 0.5) s.connections[s.connections.length - 1].socket.destroy();
      }
      const arrived = () => new Set(s.connections.flatMap((x) => x.all("publish").map((p) => `${p.resolvedTopic}|${p.payload}`)));
      await until("every QoS 1/2 publish", () => { const got = arrived(); return [...want].every((w) => got.has(w)); }, 10000);
      expect(s.connections.map((x) => x.disconnectedWith)).toEqual(s.connections.map(() => undefined));
      expect(c.errors).toEqual([]); // no PUBREL into a fresh session (PUBCOMP 0x92), no breach
    });
  }
});
