// The pure protocol state machine in MQTT 5.0, packet by packet: mqtt-packet (an independent implementation
// of 5.0) generates the broker's packets and parses ours, so each rule is checked on the wire.
import { describe, expect, it } from "vitest";
import mqttPacket from "mqtt-packet";
import { Session, type SessionListener, type Output, type SessionOptions } from "../src/mqtt/session";
import { ErrorCode, type MQTTError } from "../src/mqtt/errors";
import { Properties } from "../src/mqtt/properties";
import type { Message } from "../src/mqtt/message";
import { PushReader } from "../sim/brokers/server-codec.ts";

class ParsingOutput implements Output {
  window = 1 << 20;
  packets: any[] = [];
  bytes: number[][] = [];
  private parser = mqttPacket.parser({ protocolVersion: 5 });
  constructor() { this.parser.on("packet", (p: any) => this.packets.push(p)); this.parser.on("error", (e: Error) => { throw e; }); }
  writable(): number { return this.window; }
  write(packet: Uint8Array): boolean {
    if (packet.length > this.window) return false;
    this.window -= packet.length;
    this.bytes.push(Array.from(packet));
    this.parser.parse(Buffer.from(packet.slice()));
    return true;
  }
  take(): any[] { const p = this.packets; this.packets = []; return p; }
}

interface Got { topic: string; text: string; contentType?: string; subscriptionId: number; alias: number; user: Record<string, string | string[]> }

class Events implements SessionListener {
  connected: boolean[] = []; messages: Got[] = []; delivered: number[] = []; subacks: number[] = []; unsubacks: string[] = [];
  errors: MQTTError[] = []; fatals: MQTTError[] = []; auths: [number, string | undefined, string][] = [];
  authReply: string | undefined = "reply";
  onSessionConnect(p: boolean) { this.connected.push(p); }
  onSessionMessage(m: Message) {
    this.messages.push({ topic: m.topic, text: m.text, contentType: m.contentType, subscriptionId: m.subscriptionId, alias: m.topicAlias, user: m.userProperties });
  }
  onSessionDelivered(id: number) { this.delivered.push(id); }
  onSessionSubscribe(_s: unknown, g: number) { this.subacks.push(g); }
  onSessionUnsubscribe(s: { filter: string }) { this.unsubacks.push(s.filter); }
  onSessionError(e: MQTTError) { this.errors.push(e); }
  onSessionFatal(e: MQTTError) { this.fatals.push(e); }
  onSessionAuth(code: number, method: string | undefined, data: Uint8Array | undefined) {
    this.auths.push([code, method, Buffer.from(data ?? []).toString()]);
    return this.authReply;
  }
}

function setup(options: Partial<SessionOptions> = {}, rxBuffer = 512) {
  const events = new Events();
  const session = new Session({ clientId: "unit5", keepalive: 10, txBuffer: 256, inflight: 4, queue: 512, protocolVersion: 5, rxBuffer, ...options }, events);
  const output = new ParsingOutput();
  const reader = new PushReader(rxBuffer);
  const deliver = (packet: object) => {
    const bytes = mqttPacket.generate(packet as any, { protocolVersion: 5 });
    let off = 0;
    while (off < bytes.length) {
      const s = reader.push(bytes, off, bytes.length);
      off += reader.consumed;
      if (s === 1) session.receive(reader, 0);
      else if (s < 0) throw new Error(`reader ${s}`);
    }
  };
  const connect = (properties: object = {}, sessionPresent = false) => {
    session.begin(output, 0);
    const [c] = output.take();
    expect(c.cmd).toBe("connect");
    deliver({ cmd: "connack", reasonCode: 0, sessionPresent, properties });
    return c;
  };
  return { session, events, output, deliver, connect };
}

describe("Session, MQTT 5.0", () => {
  it("sends CONNECT level 5 with its properties and our defaults (receive maximum, packet size, aliases, expiry)", () => {
    const { connect } = setup({ cleanSession: false, properties: { userProperties: { site: "lab" }, requestProblemInformation: true },
      will: { topic: "w", payload: "gone", qos: 1, properties: { willDelayInterval: 5, contentType: "text/plain" } } });
    const c = connect();
    expect(c.protocolVersion).toBe(5);
    expect(c.clean).toBe(false);
    // Defaults: inflightIn 20, what rxBuffer 512 holds (1 + 2 + 512), 4 aliases, clean false = never expire.
    expect(c.properties).toEqual({ receiveMaximum: 20, maximumPacketSize: 515, topicAliasMaximum: 4, sessionExpiryInterval: 0xffffffff,
      requestProblemInformation: true, userProperties: { site: "lab" } });
    expect(c.will.properties).toEqual({ willDelayInterval: 5, contentType: "text/plain" });
  });

  it("applies the CONNACK: assigned id for the next CONNECT, server keep alive, receive maximum as the in-flight window", () => {
    const { session, events, output, deliver, connect } = setup({ clientId: "", inflight: 4 });
    connect({ assignedClientIdentifier: "given-1", serverKeepAlive: 7, receiveMaximum: 2, topicAliasMaximum: 3, maximumQoS: 1 });
    expect(events.connected).toEqual([false]);
    expect(session.keepalive).toBe(7);
    expect(session.server.assignedClientIdentifier).toBe("given-1");
    expect(session.server.maximumQoS).toBe(1);
    for (let i = 0; i < 4; i++) session.publish("q/1", `m${i}`, 1, false, 0);
    // Only 2 unacknowledged at once: the broker's Receive Maximum.
    expect(output.take().map((p) => p.payload.toString())).toEqual(["m0", "m1"]);
    deliver({ cmd: "puback", messageId: 1, reasonCode: 0 });
    expect(output.take().map((p) => p.payload.toString())).toEqual(["m2"]);
    expect(() => session.publish("q/1", "x", 2, false, 0)).toThrow(/QoS 1 at most/);
    session.end();
    session.begin(output, 0);
    expect(output.take()[0].clientId).toBe("given-1");
  });

  it("refuses locally what the broker said it lacks, and a packet over its Maximum Packet Size", () => {
    const { session, events, output, connect } = setup();
    const sub = session.subscribe("a/+", 0, undefined, 0); // made before the CONNACK: refused when it says so
    connect({ retainAvailable: false, wildcardSubscriptionAvailable: false, sharedSubscriptionAvailable: false,
      subscriptionIdentifiersAvailable: false, maximumPacketSize: 40 });
    expect(output.take()).toEqual([]);
    expect(events.subacks).toEqual([0xa2]);
    expect(events.errors.map((e) => e.code)).toEqual([ErrorCode.NotSupported]);
    expect(session.subscriptions.list).not.toContain(sub);
    expect(() => session.publish("t", "x", 0, true, 0)).toThrow(/Retain Available 0/);
    expect(() => session.subscribe("$share/g/t", 0, undefined, 0)).toThrow(/no shared subscriptions/);
    expect(() => session.subscribe("t", 0, undefined, 0, 0, 5)).toThrow(/no subscription identifiers/);
    expect(() => session.publish("t", "x".repeat(40), 0, false, 0)).toThrow(/the broker takes 40 at most/);
    session.publish("t", "fits", 0, false, 0);
    expect(output.take().map((p) => p.payload.toString())).toEqual(["fits"]);
  });

  it("reports a PUBACK or PUBREC >= 0x80 as a failed delivery, not a success; 0x10 is a success", () => {
    const { session, events, deliver, connect } = setup();
    connect();
    const a = session.publish("t", "a", 1, false, 0), b = session.publish("t", "b", 2, false, 0), c = session.publish("t", "c", 1, false, 0);
    deliver({ cmd: "puback", messageId: a, reasonCode: 0x87, properties: { reasonString: "no publishing to t" } });
    deliver({ cmd: "pubrec", messageId: b, reasonCode: 0x97 });
    deliver({ cmd: "puback", messageId: c, reasonCode: 0x10 });
    expect(events.delivered).toEqual([c]);
    expect(events.errors.map((e) => [e.code, e.reasonCode, e.packetId])).toEqual([[ErrorCode.PublishFailed, 0x87, a], [ErrorCode.PublishFailed, 0x97, b]]);
    expect(events.errors[0].message).toContain('PUBACK 0x87 Not authorized: "no publishing to t" for publish');
    expect(session.inflight.count).toBe(0);
  });

  it("SUBACK and UNSUBACK reason codes, with names", () => {
    const { session, events, output, deliver, connect } = setup();
    connect();
    session.subscribe("ok/#", 2, undefined, 0, 0x04 | 0x08 | (2 << 4), 42);
    session.subscribe("no/#", 1, undefined, 0);
    const [s1, s2] = output.take();
    expect(s1.subscriptions).toEqual([{ topic: "ok/#", qos: 2, nl: true, rap: true, rh: 2 }]);
    expect(s1.properties).toEqual({ subscriptionIdentifier: 42 });
    deliver({ cmd: "suback", messageId: s1.messageId, granted: [1] });
    deliver({ cmd: "suback", messageId: s2.messageId, granted: [0x8f], properties: { reasonString: "bad filter" } });
    expect(events.subacks).toEqual([1, 0x8f]);
    expect(events.errors.map((e) => e.code)).toEqual([ErrorCode.QosDowngraded, ErrorCode.SubscribeFailed]);
    expect(events.errors[1].message).toContain('SUBACK 0x8f Topic Filter invalid: "bad filter"');
    session.unsubscribe("ok/#", 0);
    session.unsubscribe("other", 0);
    const [u1, u2] = output.take();
    deliver({ cmd: "unsuback", messageId: u1.messageId, granted: [0x11] });
    deliver({ cmd: "unsuback", messageId: u2.messageId, granted: [0x87] });
    expect(events.unsubacks).toEqual(["ok/#"]);
    expect(events.errors[2].code).toBe(ErrorCode.UnsubscribeFailed);
    expect(events.errors[2].message).toContain("0x87 Not authorized");
  });

  it("resolves incoming topic aliases into the message view and keeps properties readable", () => {
    const { session, events, deliver, connect } = setup();
    connect();
    session.subscribe("s/#", 1, undefined, 0, 0, 9);
    deliver({ cmd: "publish", topic: "s/long/topic", payload: "1", qos: 0, properties: { topicAlias: 2, contentType: "text/plain", subscriptionIdentifier: 9 } });
    deliver({ cmd: "publish", topic: "", payload: "2", qos: 1, messageId: 5, properties: { topicAlias: 2, userProperties: { k: ["a", "b"] } } });
    deliver({ cmd: "publish", topic: "s/other", payload: "3", qos: 0, properties: { topicAlias: 2 } });
    deliver({ cmd: "publish", topic: "", payload: "4", qos: 0, properties: { topicAlias: 2 } });
    expect(events.messages.map((m) => [m.topic, m.text, m.alias])).toEqual([["s/long/topic", "1", 2], ["s/long/topic", "2", 2], ["s/other", "3", 2], ["s/other", "4", 2]]);
    expect(events.messages[0].contentType).toBe("text/plain");
    expect(events.messages[0].subscriptionId).toBe(9);
    expect(events.messages[1].user).toEqual({ k: ["a", "b"] });
    expect(events.fatals).toEqual([]);
  });

  it("an alias above what we allow, or used before it was named, ends the connection with DISCONNECT 0x94", () => {
    for (const packet of [{ topic: "t", properties: { topicAlias: 5 } }, { topic: "", properties: { topicAlias: 1 } }]) {
      const { events, output, deliver, connect } = setup();
      connect();
      deliver({ cmd: "publish", payload: "x", qos: 0, ...packet });
      expect(output.take().map((p) => [p.cmd, p.reasonCode])).toEqual([["disconnect", 0x94]]);
      expect(events.fatals.map((e) => e.reasonCode)).toEqual([0x94]);
      expect(events.messages).toEqual([]);
    }
  });

  it("refuses a payload marked UTF-8 that is not, acknowledging it with 0x99", () => {
    const { events, output, deliver, connect } = setup();
    connect();
    deliver({ cmd: "publish", topic: "t", payload: Buffer.from([0xff, 0xfe]), qos: 1, messageId: 3, properties: { payloadFormatIndicator: true } });
    expect(events.messages).toEqual([]);
    expect(output.take().map((p) => [p.cmd, p.messageId, p.reasonCode])).toEqual([["puback", 3, 0x99]]);
    expect(events.errors[0].reasonCode).toBe(0x99);
  });

  it("gives the most used QoS 0 topics the broker's aliases: topic and alias once, then the alias alone", () => {
    const { session, output, connect } = setup({ topicAliases: 1 });
    connect({ topicAliasMaximum: 1 });
    const props = new Properties({ contentType: "c" });
    for (const t of ["a/1", "a/1", "a/1", "b/2", "b/2", "b/2", "b/2", "b/2"]) session.publish5(t, "v", 0, false, 0, props);
    const sent = output.take().map((p) => [p.topic, p.properties?.topicAlias ?? 0]);
    // a/1 gets alias 1; b/2 takes it over once used more than a/1 (its 4th use).
    expect(sent).toEqual([["a/1", 1], ["", 1], ["", 1], ["b/2", 0], ["b/2", 0], ["b/2", 0], ["b/2", 1], ["", 1]]);
    // QoS 1 always carries its whole topic (it may be resent on another connection).
    session.publish("b/2", "q", 1, false, 0);
    expect(output.take()[0]).toMatchObject({ topic: "b/2", qos: 1 });
    expect(output.take()).toEqual([]);
  });

  it("keeps aliases for string topics that rotate through more than the 4-entry string cache", () => {
    const { session, output, connect } = setup({ topicAliases: 6 });
    connect({ topicAliasMaximum: 6 });
    const topics = ["t/1", "t/2", "t/3", "t/4", "t/5", "t/6"];
    for (let round = 0; round < 5; round++) for (const t of topics) session.publish(t, "v", 0, false, 0);
    const sent = output.take();
    // The first round sets the 6 aliases; every later publish is its alias alone, though each string's bytes
    // were encoded again after the cache forgot them.
    expect(sent.slice(6).every((p) => p.topic === "" && p.properties?.topicAlias >= 1)).toBe(true);
    expect(sent.slice(0, 6).map((p) => [p.topic, p.properties?.topicAlias])).toEqual(topics.map((t, i) => [t, i + 1]));
  });

  it("dispatches a copy to the subscriptions it names; by filter when it names none of ours", () => {
    const { session, deliver, connect } = setup();
    const calls: string[] = [];
    (session.listener as Events).onSessionMessage = (m: Message) => session.subscriptions.dispatch(m);
    connect();
    session.subscribe("m/#", 1, () => calls.push("hash"), 0, 0, 5);
    session.subscribe("m/+", 1, () => calls.push("plus"), 0, 0, 9);
    session.subscribe("m/x", 1, () => calls.push("exact"), 0);
    deliver({ cmd: "publish", topic: "m/x", payload: "1", qos: 0, properties: { subscriptionIdentifier: 9 } });
    deliver({ cmd: "publish", topic: "m/x", payload: "2", qos: 0, properties: { subscriptionIdentifier: [5, 9] } });
    deliver({ cmd: "publish", topic: "m/x", payload: "3", qos: 0 });
    deliver({ cmd: "publish", topic: "m/x", payload: "4", qos: 0, properties: { subscriptionIdentifier: 77 } });
    expect(calls).toEqual(["plus", "hash", "plus", "exact", "hash", "plus", "exact"]);
  });

  it("without our session (session present 0) resends in-flight publishes as new, not DUP", () => {
    const { session, output, connect } = setup({ cleanSession: false });
    connect();
    session.publish("t", "keep", 1, false, 0);
    expect(output.take()[0].dup).toBe(false);
    session.end();
    connect({}, false);
    const [again] = output.take();
    expect([again.payload.toString(), again.dup]).toEqual(["keep", false]);
    session.end();
    connect({}, true);
    expect(output.take()[0].dup).toBe(true);
  });

  it("a broker DISCONNECT ends the connection with its reason and server reference", () => {
    const { session, events, deliver, connect } = setup();
    connect();
    deliver({ cmd: "disconnect", reasonCode: 0x9c, properties: { serverReference: "other:1884", reasonString: "maintenance" } });
    expect(events.fatals.map((e) => [e.code, e.reasonCode])).toEqual([[ErrorCode.Disconnected, 0x9c]]);
    expect(events.fatals[0].message).toBe('disconnected by the broker: DISCONNECT 0x9c Use another server: "maintenance"; it points to other:1884');
    expect(session.server.serverReference).toBe("other:1884");
  });

  it("DISCONNECT with a reason and a session expiry; refused when the session had none", () => {
    const a = setup({ cleanSession: false });
    a.connect();
    a.session.disconnect(0, 0x04, { sessionExpiryInterval: 30, reasonString: "sleep" });
    expect(a.output.take()).toMatchObject([{ cmd: "disconnect", reasonCode: 4, properties: { sessionExpiryInterval: 30, reasonString: "sleep" } }]);
    const b = setup();
    b.connect();
    expect(() => b.session.disconnect(0, 0, { sessionExpiryInterval: 30 })).toThrow(/MQTT-3.14.2-2/);
  });

  it("enhanced authentication: answers AUTH continue through onSessionAuth, then takes the CONNACK", () => {
    const { session, events, output, deliver } = setup({ properties: { authenticationMethod: "SCRAM-SHA-1", authenticationData: "client-first" } });
    session.begin(output, 0);
    expect(output.take()[0].properties).toMatchObject({ authenticationMethod: "SCRAM-SHA-1", authenticationData: Buffer.from("client-first") });
    deliver({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM-SHA-1", authenticationData: Buffer.from("server-first") } });
    expect(events.auths).toEqual([[0x18, "SCRAM-SHA-1", "server-first"]]);
    expect(output.take()).toMatchObject([{ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM-SHA-1", authenticationData: Buffer.from("reply") } }]);
    deliver({ cmd: "connack", reasonCode: 0, sessionPresent: false, properties: { authenticationMethod: "SCRAM-SHA-1", authenticationData: Buffer.from("server-final") } });
    expect(events.connected).toEqual([false]);
    expect(events.auths[1]).toEqual([0, "SCRAM-SHA-1", "server-final"]); // the CONNACK's last data reaches the application too
    session.reauthenticate("again", 0);
    expect(output.take()).toMatchObject([{ cmd: "auth", reasonCode: 0x19, properties: { authenticationData: Buffer.from("again") } }]);
  });

  it("a refused CONNACK names its reason; a 3.1.1 broker's answer says to use protocol 4", () => {
    const { session, events, output, deliver } = setup();
    session.begin(output, 0);
    deliver({ cmd: "connack", reasonCode: 0x86, sessionPresent: false, properties: { reasonString: "who are you" } });
    expect(events.fatals[0].message).toBe('connection refused by broker: CONNACK 0x86 Bad User Name or Password: "who are you"');
    const old = setup();
    old.session.begin(old.output, 0);
    const reader = new PushReader(64);
    reader.push(new Uint8Array([0x20, 2, 0, 1]), 0, 4);
    old.session.receive(reader, 0);
    expect(old.events.fatals.map((e) => [e.code, e.reasonCode])).toEqual([[ErrorCode.NotSupported, 0x84]]);
    expect(old.events.fatals[0].message).toContain("does not speak 5.0; use protocolVersion 4");
  });
});
