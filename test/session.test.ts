// The pure protocol state machine, driven packet by packet: what it writes for each input, with a
// window we control. mqtt-packet (an independent implementation) generates the broker's packets and
// parses ours.
import { describe, expect, it } from "vitest";
import mqttPacket from "mqtt-packet";
import { Session, type SessionListener, type Output } from "../src/mqtt/session";
import { PacketReader, PacketType } from "../src/mqtt/codec";
import { ErrorCode, type MQTTError } from "../src/mqtt/errors";
import { PushReader } from "../sim/brokers/server-codec.ts";

/** The session's Output: parses what it writes with mqtt-packet and keeps the packets, within a window we set. */
class ParsingOutput implements Output {
  window = 1 << 20;
  packets: any[] = [];
  private parser = mqttPacket.parser({ protocolVersion: 4 });
  constructor() { this.parser.on("packet", (p: any) => this.packets.push(p)); this.parser.on("error", (e: Error) => { throw e; }); }
  writable(): number { return this.window; }
  write(packet: Uint8Array): boolean {
    if (packet.length > this.window) return false;
    this.window -= packet.length;
    this.parser.parse(Buffer.from(packet.slice()));
    return true;
  }
  take(): any[] { const p = this.packets; this.packets = []; return p; }
}

class Events implements SessionListener {
  connected: boolean[] = []; messages: string[] = []; delivered: number[] = []; subacks: number[] = [];
  errors: MQTTError[] = []; fatals: MQTTError[] = [];
  onSessionConnect(p: boolean) { this.connected.push(p); }
  onSessionMessage(p: any) { this.messages.push(Buffer.from(p.buf.slice(p.payloadStart, p.payloadEnd)).toString()); }
  onSessionDelivered(id: number) { this.delivered.push(id); }
  onSessionSubscribe(_s: unknown, g: number) { this.subacks.push(g); }
  unsubacks: string[] = [];
  onSessionUnsubscribe(s: { filter: string }) { this.unsubacks.push(s.filter); }
  onSessionError(e: MQTTError) { this.errors.push(e); }
  onSessionFatal(e: MQTTError) { this.fatals.push(e); }
}

function setup(options: Partial<ConstructorParameters<typeof Session>[0]> = {}, rxBuffer = 512) {
  const events = new Events();
  const session = new Session({ clientId: "unit", keepalive: 10, txBuffer: 256, inflight: 4, queue: 256, ...options }, events);
  const output = new ParsingOutput();
  const reader = new PushReader(rxBuffer);
  let now = 0;
  const deliver = (packet: object) => {
    const bytes = mqttPacket.generate(packet as any);
    let off = 0;
    while (off < bytes.length) {
      const s = reader.push(bytes, off, bytes.length);
      off += reader.consumed;
      if (s === 1) session.receive(reader, now);
      else if (s < 0) throw new Error(`reader ${s}`);
    }
  };
  const connect = (sessionPresent = false) => {
    session.begin(output, now);
    expect(output.take().map((p) => p.cmd)).toEqual(["connect"]);
    deliver({ cmd: "connack", returnCode: 0, sessionPresent });
  };
  return { session, events, output, deliver, connect, at: (t: number) => { now = t; } };
}

describe("Session", () => {
  it("sends CONNECT with the options and reports CONNACK", () => {
    const { session, output, events, deliver } = setup({ username: "u", password: "p", cleanSession: false, will: { topic: "w", payload: "gone", qos: 1, retain: true } });
    session.begin(output, 0);
    const [c] = output.take();
    expect(c).toMatchObject({ cmd: "connect", clientId: "unit", keepalive: 10, clean: false, username: "u", protocolVersion: 4 });
    expect(c.will).toMatchObject({ topic: "w", qos: 1, retain: true });
    expect(Buffer.from(c.will.payload).toString()).toBe("gone");
    deliver({ cmd: "connack", returnCode: 0, sessionPresent: true });
    expect(events.connected).toEqual([true]);
    expect(session.connected).toBe(true);
  });

  it("treats anything but CONNACK first as a protocol violation", () => {
    const { session, output, events, deliver } = setup();
    session.begin(output, 0);
    deliver({ cmd: "pingresp" });
    expect(events.fatals.map((e) => e.code)).toEqual([ErrorCode.ProtocolViolation]);
  });

  it("closes on packets only clients send", () => {
    const { events, deliver, connect } = setup();
    connect();
    deliver({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "a", qos: 0 }] });
    expect(events.fatals[0].code).toBe(ErrorCode.ProtocolViolation);
    expect(events.fatals[0].message).toMatch(/SUBSCRIBE/);
  });

  it("keeps every byte right when QoS 0 publishes reuse the topic in tx: sizes across the 128-byte header step, other topics, acks in between", () => {
    const { session, output, deliver, connect } = setup({ txBuffer: 512 });
    connect();
    const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
    const sent: [string, number, number, boolean][] = [
      ["same/topic", 10, 1, false], ["same/topic", 200, 2, true], ["same/topic", 300, 3, false], ["same/topic", 5, 4, false],
      ["other", 200, 5, false], ["same/topic", 200, 6, false], ["same/topic", 0, 7, false],
    ];
    for (const [topic, n, fill, retain] of sent) {
      expect(session.publish(topic, bytes(n, fill), 0, retain, 0)).toBe(0);
      deliver({ cmd: "publish", topic: "in", payload: Buffer.from("x"), qos: 1, messageId: fill }); // a PUBACK goes out between
    }
    const got = output.take().filter((p) => p.cmd === "publish").map((p) => [p.topic, p.payload.length, p.payload[0] ?? 0, p.retain]);
    expect(got).toEqual(sent.map(([t, n, f, r]) => [t, n, n ? f : 0, r]));
  });

  it("resends unacknowledged QoS 1 and 2 publishes with DUP and their ids after a reconnect, PUBREL for PUBREC'd ones", () => {
    const { session, output, events, deliver, connect } = setup({ cleanSession: false });
    connect();
    const a = session.publish("t/a", "one", 1, false, 0);
    const b = session.publish("t/b", "two", 2, false, 0);
    const c = session.publish("t/c", "three", 2, false, 0);
    expect(output.take().map((p) => [p.cmd, p.messageId, p.dup])).toEqual([["publish", a, false], ["publish", b, false], ["publish", c, false]]);
    deliver({ cmd: "pubrec", messageId: c });
    expect(output.take().map((p) => [p.cmd, p.messageId])).toEqual([["pubrel", c]]);
    session.end();
    connect(true);
    expect(output.take().map((p) => [p.cmd, p.messageId, p.dup ?? false])).toEqual([["publish", a, true], ["publish", b, true], ["pubrel", c, false]]);
    deliver({ cmd: "puback", messageId: a });
    deliver({ cmd: "pubrec", messageId: b });
    expect(output.take().map((p) => [p.cmd, p.messageId])).toEqual([["pubrel", b]]);
    deliver({ cmd: "pubcomp", messageId: b });
    deliver({ cmd: "pubcomp", messageId: c });
    expect(events.delivered).toEqual([a, b, c]);
    expect(session.inflight.count).toBe(0);
  });

  it("delivers an incoming QoS 2 message once even when the broker sends it again before PUBREL", () => {
    const { events, output, deliver, connect } = setup();
    connect();
    const msg = { cmd: "publish", topic: "in", payload: Buffer.from("x"), qos: 2, messageId: 7, retain: false, dup: false };
    deliver(msg);
    deliver({ ...msg, dup: true });
    deliver({ cmd: "pubrel", messageId: 7 });
    expect(events.messages).toEqual(["x"]);
    expect(output.take().map((p) => [p.cmd, p.messageId])).toEqual([["pubrec", 7], ["pubrec", 7], ["pubcomp", 7]]);
    deliver(msg); // a new message that reuses id 7 after the exchange ended is delivered
    expect(events.messages).toEqual(["x", "x"]);
  });

  it("acknowledges QoS 1 after delivering it", () => {
    const { events, output, deliver, connect } = setup();
    connect();
    deliver({ cmd: "publish", topic: "in", payload: Buffer.from("y"), qos: 1, messageId: 9, retain: false, dup: false });
    expect(events.messages).toEqual(["y"]);
    expect(output.take().map((p) => [p.cmd, p.messageId])).toEqual([["puback", 9]]);
  });

  it("queues while offline and sends in order on connect; QoS 1 beyond the in-flight slots waits for a slot", () => {
    const { session, output, deliver, connect } = setup({ inflight: 1 });
    session.publish("q", "first", 0, false, 0);
    expect(session.publish("q", "second", 1, false, 0)).toBe(0); // queued: its packet id comes with a slot
    session.publish("q", "third", 1, false, 0);
    session.publish("q", "fourth", 0, false, 0);
    expect(session.outbox.count).toBe(4); // "second" queued behind "first" to keep the order
    connect();
    // in order: "first" goes, "second" takes the only slot, "third" must wait for it and "fourth" waits behind "third"
    const sent = output.take();
    expect(sent.map((p) => Buffer.from(p.payload).toString())).toEqual(["first", "second"]);
    expect(sent[1].messageId).toBeGreaterThan(0);
    deliver({ cmd: "puback", messageId: sent[1].messageId });
    expect(output.take().map((p) => Buffer.from(p.payload).toString())).toEqual(["third", "fourth"]);
  });

  it("holds packets while the TCP window is full and sends them when it opens", () => {
    const { session, output, connect } = setup();
    connect();
    output.window = 10;
    session.publish("w", "0123456789", 0, false, 0);
    session.publish("w", "abc", 0, false, 0);
    expect(output.take()).toEqual([]);
    output.window = 1000;
    session.pump(0);
    expect(output.take().map((p) => Buffer.from(p.payload).toString())).toEqual(["0123456789", "abc"]);
  });

  it("drop-oldest keeps the newest messages and reports how many it dropped", () => {
    const { session, events, output, connect } = setup({ queue: 40 });
    for (let i = 0; i < 6; i++) session.publish("o", `m${i}`, 0, false, 0); // 7-byte packets + 3-byte entry header: 4 fit
    expect(events.errors.length).toBeGreaterThan(0);
    expect(events.errors.every((e) => e.code === ErrorCode.QueueOverflow)).toBe(true);
    connect();
    const got = output.take().map((p) => Buffer.from(p.payload).toString());
    expect(got).toEqual(["m2", "m3", "m4", "m5"]);
    expect(session.dropped).toBe(2);
  });

  it("drop-newest refuses new messages with -1 and keeps the old ones", () => {
    const { session, output, connect } = setup({ queue: 40, overflow: "drop-newest" });
    const results = [0, 1, 2, 3, 4].map((i) => session.publish("o", `m${i}`, 0, false, 0));
    expect(results).toEqual([0, 0, 0, 0, -1]);
    connect();
    expect(output.take().map((p) => Buffer.from(p.payload).toString())).toEqual(["m0", "m1", "m2", "m3"]);
  });

  it("takes a PUBACK for a QoS 2 publish as a downgraded delivery (RabbitMQ) and does not jam the queue", () => {
    const { session, output, events, deliver, connect } = setup({ inflight: 2 });
    connect();
    const ids = [0, 1, 2, 3].map((i) => session.publish("q2", `m${i}`, 2, false, 0));
    const sent = output.take();
    expect(sent.map((p) => p.messageId)).toEqual([ids[0], ids[1]]); // two slots: the rest wait
    deliver({ cmd: "puback", messageId: ids[0] });
    deliver({ cmd: "puback", messageId: ids[1] });
    expect(events.delivered).toEqual([ids[0], ids[1]]);
    expect(events.errors.map((e) => e.code)).toEqual([ErrorCode.QosDowngraded, ErrorCode.QosDowngraded]);
    expect(events.errors[0].message).toMatch(new RegExp(`QoS 2 publish ${ids[0]} with PUBACK`));
    expect(events.fatals).toEqual([]);
    const next = output.take();
    expect(next.map((p) => [p.cmd, p.qos, Buffer.from(p.payload).toString()])).toEqual([["publish", 2, "m2"], ["publish", 2, "m3"]]);
  });

  it("ends the connection on an ack of the wrong kind for an id in flight, naming the packet and the id", () => {
    for (const wrong of ["pubrec", "pubcomp"] as const) {
      const { session, output, events, deliver, connect } = setup();
      connect();
      const id = session.publish("q1", "x", 1, false, 0);
      output.take();
      deliver({ cmd: wrong, messageId: id });
      expect(events.fatals.map((e) => e.code)).toEqual([ErrorCode.ProtocolViolation]);
      expect(events.fatals[0].message).toContain(`${wrong.toUpperCase()} for publish ${id}, which waits for PUBACK`);
      expect(events.delivered).toEqual([]);
    }
    const { session, output, events, deliver, connect } = setup();
    connect();
    const id = session.publish("q2", "x", 2, false, 0);
    output.take();
    deliver({ cmd: "pubcomp", messageId: id });
    expect(events.fatals[0].message).toContain(`PUBCOMP for publish ${id}, which waits for PUBREC`);
    deliver({ cmd: "puback", messageId: 999 }); // an id not in flight: a late duplicate, ignored
    expect(events.fatals.length).toBe(1);
  });

  it("reports a SUBACK that grants less than the QoS asked for", () => {
    const { session, output, events, deliver, connect } = setup();
    session.subscribe("s/+", 2, undefined, 0);
    connect();
    const [sub] = output.take();
    deliver({ cmd: "suback", messageId: sub.messageId, granted: [1] });
    expect(events.subacks).toEqual([1]);
    expect(events.errors.map((e) => [e.code, e.reasonCode])).toEqual([[ErrorCode.QosDowngraded, 1]]);
    expect(events.errors[0].message).toContain(`granted QoS 1 for "s/+", not the 2 asked for`);
  });

  it("calls a second CONNACK on a connection what it is", () => {
    const { events, deliver, connect } = setup();
    connect();
    deliver({ cmd: "connack", returnCode: 0, sessionPresent: false });
    expect(events.fatals.map((e) => e.code)).toEqual([ErrorCode.ProtocolViolation]);
    expect(events.fatals[0].message).toContain("a second CONNACK on this connection");
  });

  it("reports a SUBSCRIBE or UNSUBSCRIBE left without its ack after ackTimeout, naming the filter", () => {
    const { session, output, events, connect, at } = setup({ ackTimeout: 3000, keepalive: 60 });
    connect();
    session.subscribe("slow/+", 1, undefined, 0);
    expect(output.take().map((p) => p.cmd)).toEqual(["subscribe"]);
    expect(session.nextDeadline(0)).toBe(3000);
    at(2999); session.tick(2999);
    expect(events.fatals).toEqual([]);
    at(3000); session.tick(3000);
    expect(events.fatals.map((e) => e.code)).toEqual([ErrorCode.AckTimeout]);
    expect(events.fatals[0].message).toContain(`no SUBACK for "slow/+" within 3000 ms`);
  });

  it("unsubscribes a filter it does not know and reports the UNSUBACK", () => {
    const { session, output, events, deliver, connect } = setup();
    connect();
    session.unsubscribe("old/#", 0);
    const [u] = output.take();
    expect([u.cmd, u.unsubscriptions]).toEqual(["unsubscribe", ["old/#"]]);
    deliver({ cmd: "unsuback", messageId: u.messageId });
    expect(events.unsubacks).toEqual(["old/#"]);
    expect(session.subscriptions.list).toEqual([]);
  });

  it("speaks MQTT 3.1 (MQIsdp, level 3) when asked, and checks its 23-character client id", () => {
    const { session, output } = setup({ protocolVersion: 3, clientId: "old-broker" });
    session.begin(output, 0);
    const [c] = output.take();
    expect([c.cmd, c.protocolId, c.protocolVersion, c.clientId]).toEqual(["connect", "MQIsdp", 3, "old-broker"]);
    const events = new Events();
    expect(() => new Session({ clientId: "x".repeat(24), protocolVersion: 3 }, events)).toThrow(/MQTT 3\.1 needs a clientId of 1 to 23/);
    expect(() => new Session({ clientId: "x", protocolVersion: 6 as never }, events)).toThrow(/protocolVersion 6 is not 3 \(MQTT 3\.1\), 4 \(MQTT 3\.1\.1\) or 5/);
    expect(() => new Session({ clientId: "x", protocolVersion: 4, protocol: 5 }, events)).toThrow(/disagree/);
    expect(() => new Session({ clientId: "x", properties: { sessionExpiryInterval: 10 } }, events)).toThrow(/MQTT 5\.0: set protocolVersion: 5/);
  });

  it("with strictTopics, closes on a topic with control characters; without, delivers it", () => {
    for (const strict of [false, true]) {
      const { events, deliver, connect } = setup({ strictTopics: strict });
      connect();
      deliver({ cmd: "publish", topic: "a\u0007b", payload: Buffer.from("x"), qos: 0 });
      deliver({ cmd: "publish", topic: "c\u0085d", payload: Buffer.from("y"), qos: 0 });
      if (strict) {
        expect(events.fatals.map((e) => e.code)).toEqual([ErrorCode.ProtocolViolation, ErrorCode.ProtocolViolation]);
        expect(events.messages).toEqual([]);
      } else expect(events.messages).toEqual(["x", "y"]);
    }
  });

  it("says the real limit when a PUBLISH cannot fit even the largest txBuffer", () => {
    const { session } = setup({ txBuffer: 65535 });
    expect(() => session.publish("big", new Uint8Array(70000), 0, false, 0)).toThrow(/exceeds 65535 bytes, the largest packet this client sends/);
    const small = setup({ txBuffer: 64 }).session;
    expect(() => small.publish("big", new Uint8Array(100), 0, false, 0)).toThrow(/raise txBuffer \(at most 65535\)/);
  });

  it("subscribes on connect, resubscribes when the broker lost the session, and reports SUBACK 0x80", () => {
    const { session, output, events, deliver, connect } = setup();
    session.subscribe("a/+", 1, undefined, 0);
    session.subscribe("b/#", 2, undefined, 0);
    connect();
    const subs = output.take();
    expect(subs.map((p) => p.subscriptions[0])).toEqual([{ topic: "a/+", qos: 1 }, { topic: "b/#", qos: 2 }]);
    deliver({ cmd: "suback", messageId: subs[0].messageId, granted: [1] });
    deliver({ cmd: "suback", messageId: subs[1].messageId, granted: [0x80] });
    expect(events.subacks).toEqual([1, 0x80]);
    expect(events.errors.map((e) => e.code)).toEqual([ErrorCode.SubscribeFailed]);
    expect(session.subscriptions.list.map((s) => s.filter)).toEqual(["a/+"]);
    session.end();
    connect(true);
    expect(output.take()).toEqual([]); // session kept: nothing to resend
    session.end();
    connect(false);
    expect(output.take().map((p) => p.subscriptions[0].topic)).toEqual(["a/+"]);
  });

  it("pings when idle and declares the link dead half a keepalive after an unanswered ping", () => {
    const { session, output, events, deliver, connect, at } = setup({ keepalive: 10 });
    connect();
    expect(session.nextDeadline(0)).toBe(10_000);
    at(10_000); session.tick(10_000);
    expect(output.take().map((p) => p.cmd)).toEqual(["pingreq"]);
    deliver({ cmd: "pingresp" });
    at(20_000); session.tick(20_000);
    expect(output.take().map((p) => p.cmd)).toEqual(["pingreq"]);
    expect(session.nextDeadline(20_000)).toBe(5_000);
    session.tick(24_999);
    expect(events.fatals).toEqual([]);
    session.tick(25_000);
    expect(events.fatals.map((e) => e.code)).toEqual([ErrorCode.PingTimeout]);
  });

  it("pings when nothing arrives even while it keeps publishing (QoS 0 gets no answers)", () => {
    const { session, output, connect } = setup({ keepalive: 10 });
    connect();
    for (let t = 1000; t <= 10_000; t += 1000) session.publish("p", t, 0, false, t);
    output.take();
    session.tick(10_000);
    expect(output.take().map((p) => p.cmd)).toEqual(["pingreq"]);
  });

  it("gives up on a missing CONNACK after connectTimeout", () => {
    const { session, output, events } = setup({ connectTimeout: 3000 });
    session.begin(output, 0);
    expect(session.nextDeadline(0)).toBe(3000);
    session.tick(2999);
    expect(events.fatals).toEqual([]);
    session.tick(3000);
    expect(events.fatals.map((e) => e.code)).toEqual([ErrorCode.ConnectTimeout]);
  });

  it("never reuses a packet id that is still in flight, across the 65535 wrap", () => {
    const { session, output, deliver, connect } = setup({ inflight: 3 });
    connect();
    const held = session.publish("x", "held", 1, false, 0);
    const seen = new Set<number>();
    for (let i = 0; i < 70_000; i++) {
      const id = session.publish("x", "", 1, false, 0);
      expect(id).not.toBe(held);
      seen.add(id);
      deliver({ cmd: "puback", messageId: id });
      output.take();
    }
    expect(seen.has(65535)).toBe(true);
    expect(seen.has(0)).toBe(false);
  });

  it("acknowledges a QoS 1 packet too big for rxBuffer, but closes when not even its packet id fits", () => {
    const { events, output, deliver, connect } = setup({}, 16);
    connect();
    deliver({ cmd: "publish", topic: "t/ok", payload: Buffer.alloc(100, 1), qos: 1, messageId: 5, retain: false, dup: false });
    expect(events.messages).toEqual([]);
    expect(events.errors.map((e) => e.code)).toEqual([ErrorCode.PacketTooLarge]);
    expect(output.take().map((p) => [p.cmd, p.messageId])).toEqual([["puback", 5]]);
    expect(events.fatals).toEqual([]);
    deliver({ cmd: "publish", topic: "a/very/long/topic/name", payload: Buffer.alloc(10), qos: 1, messageId: 6, retain: false, dup: false });
    expect(events.fatals.map((e) => e.code)).toEqual([ErrorCode.PacketTooLarge]);
    expect(events.fatals[0].message).toMatch(/raise rxBuffer/);
    expect(output.take()).toEqual([]);
  });

  it("rejects bad options with clear errors", () => {
    const events = new Events();
    expect(() => new Session({ clientId: "", cleanSession: false }, events)).toThrow(/needs a clientId/);
    expect(() => new Session({ clientId: "x", keepalive: 70000 }, events)).toThrow(/keepalive/);
    expect(() => new Session({ clientId: "x", txBuffer: 8 }, events)).toThrow(/txBuffer/);
    expect(() => new Session({ clientId: "x", overflow: "drop-all" as any }, events)).toThrow(/overflow/);
    expect(() => new Session({ clientId: "x", will: { topic: "a/#" } }, events)).toThrow(/CONNECT options/);
    expect(() => new Session({ clientId: "x", password: "secret" }, events)).toThrow(/a password needs a username: MQTT 3\.1\.1/);
    expect(PacketType.CONNECT).toBe(1);
  });
});
