// MQTT 5.0 codec against mqtt-packet (protocolVersion 5) as an independent oracle: (1) what a broker sends,
// written by mqtt-packet, decodes to the same fields with our reader split anywhere, and the Packet's summary
// fields (topicAlias, *At offsets, findProperty...) agree with its property block; (2) what our encoders write
// parses the same with mqtt-packet, byte for byte where both lay packets out alike; (3) malformed 5.0 input is
// refused with a known ErrorCode, never a throw; plus fixed byte sequences for the short forms and edge cases.
import { describe, expect, it } from "vitest";
import { expectExactFit } from "./support/exact-fit.ts";
import fc from "fast-check";
import {
  decode, encodeAck, encodeAckReason, encodeConnect, encodePublish, encodeReasonPacket, encodeSubscribe, encodeUnsubscribe, Packet, PacketType,
  PUBLISH_FIRST, publishPropertiesLength, ReadStatus, remainingLengthSize, SubscribeOption, writePublishHead, writePublishProperties,
  writePublishTail,
} from "../src/mqtt/codec.ts";
import { ErrorCode, MQTTError } from "../src/mqtt/errors.ts";
import { Properties, PropertySet, encodedProperties, findProperty, varintSize } from "../src/mqtt/properties.ts";
import {
  block, decodeOne5, fromOurPacket5, mqttStr, ours5, packet5, packetBytes, parse5, summaryMismatches, theirs5, walkProperties,
  withLength, type Fields5,
} from "./support/codec-oracle5.ts";
import * as A from "./support/arbitraries5.ts";
import { chunk } from "./support/codec-oracle.ts";
import { pullChunks, pushChunks } from "./support/codec-stream.ts";
import { PushReader, decodeAny } from "../sim/brokers/server-codec.ts";

const RUNS = 300;
const codeName = (code: number): string => Object.entries(ErrorCode).find(([, v]) => v === -code)?.[0] ?? `unknown ${code}`;

type Out = { fields: Fields5; summary: string[] } | { error: string; type: number };

/** Every packet of the stream through push or pull into a v5 Packet: fields, and summary-field disagreements. */
function decodeStream5(chunks: Uint8Array[], capacity: number, mode: "push" | "pull"): Out[] {
  const out: Out[] = [];
  (mode === "push" ? pushChunks : pullChunks)(new PushReader(capacity), chunks, (status, p) => {
    if (status !== 0) out.push({ error: codeName(status), type: p.type });
    else out.push({ fields: fromOurPacket5(p), summary: summaryMismatches(p, findProperty) });
  }, packet5());
  return out;
}
const ok = (f: Fields5): Out => ({ fields: f, summary: [] });
const cutsFor = (n: number) => fc.array(fc.integer({ min: 0, max: n }), { maxLength: 8 });

// ---- (1) mqtt-packet writes, we decode

const incoming: Record<string, fc.Arbitrary<Fields5>> = {
  CONNACK: A.connack, PUBLISH: A.publishIn, "PUBACK/PUBREC/PUBREL/PUBCOMP": A.ackIn, SUBACK: A.suback, UNSUBACK: A.unsuback,
  DISCONNECT: A.disconnectIn, AUTH: A.authIn, PINGRESP: A.pingresp,
};

describe("mqtt-packet v5 -> our decode", () => {
  for (const [name, arb] of Object.entries(incoming)) {
    it(`${name}: same fields and properties, split anywhere (push and pull); summary fields match the block`, () => {
      fc.assert(fc.property(arb.chain((f) => fc.tuple(fc.constant(f), cutsFor(theirs5(f).length), fc.integer({ min: 0, max: 64 }))), ([f, cuts, slack]) => {
        const data = theirs5(f);
        expect(parse5(data)).toEqual([f]); // the oracle reads its own bytes back as the input (checks the arbitrary)
        for (const mode of ["push", "pull"] as const) expect(decodeStream5(chunk(data, cuts), data.length + slack, mode), mode).toEqual([ok(f)]);
      }), { numRuns: RUNS });
    });
  }

  it("every kind of publish property shows up in the runs above (the arbitraries reach them)", () => {
    const seen = new Set<string>();
    fc.assert(fc.property(A.publishIn, (f) => { for (const k of Object.keys((f as { properties?: object }).properties ?? {})) seen.add(k); }), { numRuns: 200 });
    expect([...seen].sort()).toEqual(["contentType", "correlationData", "messageExpiryInterval", "payloadFormatIndicator", "responseTopic",
      "subscriptionIdentifier", "topicAlias", "userProperties"]);
  });

  it("a stream of v5 packets back to back comes out whole and in order, however it is cut", () => {
    const any = fc.oneof(...Object.values(incoming));
    fc.assert(fc.property(fc.array(any, { minLength: 1, maxLength: 10 }).chain((fs) => {
      const total = fs.reduce((n, f) => n + theirs5(f).length, 0);
      return fc.tuple(fc.constant(fs), fc.array(fc.integer({ min: 0, max: total }), { maxLength: 20 }));
    }), ([fs, cuts]) => {
      const data = Buffer.concat(fs.map(theirs5));
      for (const mode of ["push", "pull"] as const) expect(decodeStream5(chunk(data, cuts), 65536, mode)).toEqual(fs.map(ok));
    }), { numRuns: 200 });
  });
});

// ---- (2) we write, mqtt-packet parses

const outgoing: Record<string, [fc.Arbitrary<Fields5>, (f: Fields5) => boolean]> = {
  // [arbitrary, when both encoders must write the very same bytes]
  CONNECT: [A.connect, () => true],
  PUBLISH: [A.publishOut, () => true],
  // mqtt-packet writes a reason code other than 0 with an empty property length; we leave that out (3.4.2.2.1).
  "PUBACK/PUBREC/PUBREL/PUBCOMP": [A.ackOut, (f) => (f as { reasonCode: number }).reasonCode === 0],
  SUBSCRIBE: [A.subscribe, () => true],
  UNSUBSCRIBE: [A.unsubscribe, () => true],
  // mqtt-packet always writes the reason code and property length; we leave both out for 0 without properties.
  DISCONNECT: [A.disconnectOut, (f) => (f as { properties?: object }).properties !== undefined],
  AUTH: [A.authOut, () => true],
};

describe("our v5 encoders -> mqtt-packet v5", () => {
  for (const [name, [arb, sameBytes]] of Object.entries(outgoing)) {
    it(`${name}: mqtt-packet reads the same fields and properties`, () => {
      fc.assert(fc.property(arb, (f) => { expect(parse5(ours5(f))).toEqual([f]); }), { numRuns: RUNS });
    });
    it(`${name}: the same bytes as mqtt-packet's (where both lay the packet out alike)`, () => {
      let compared = 0;
      fc.assert(fc.property(arb, (f) => {
        if (!sameBytes(f)) return;
        compared++;
        expect(Buffer.from(ours5(f)).toString("hex")).toBe(Buffer.from(theirs5(f)).toString("hex"));
      }), { numRuns: RUNS });
      expect(compared).toBeGreaterThan(RUNS / 4);
    });
  }

  it("PUBLISH through the session's writers (head, properties, tail) gives encodePublish's bytes and mqtt-packet's", () => {
    fc.assert(fc.property(A.publishOut, (f) => {
      if (f.cmd !== "publish") return;
      const { topicAlias, ...rest } = f.properties ?? {};
      const props = new Properties(Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, k === "correlationData" ? Uint8Array.from(v as number[]) : v]))).bytes;
      const alias = (topicAlias as number | undefined) ?? 0, t = Buffer.from(f.topic), body = Uint8Array.from(f.payload);
      const propsLen = publishPropertiesLength(props, alias);
      const remaining = 2 + t.length + (f.qos > 0 ? 2 : 0) + varintSize(propsLen) + propsLen + body.length;
      const first = PUBLISH_FIRST | (f.qos << 1) | (f.retain ? 1 : 0) | (f.dup ? 8 : 0);
      const tx = new Uint8Array(1 + remainingLengthSize(remaining) + remaining);
      const end = writePublishTail(tx, writePublishProperties(tx, writePublishHead(tx, 0, first, remaining, t), first, f.messageId ?? 0, alias, props), 0, body, 0);
      expect(end).toBe(tx.length);
      expect(Buffer.from(tx).toString("hex")).toBe(Buffer.from(ours5(f)).toString("hex"));
      expect(Buffer.from(tx).toString("hex")).toBe(Buffer.from(theirs5(f)).toString("hex"));
    }), { numRuns: RUNS });
  });

  it("acks with a reason code are 5 bytes (reason, no property length); Success is the 4-byte short form", () => {
    const buf = new Uint8Array(16);
    expect(encodeAck(buf, 0, PacketType.PUBACK, 0x0102)).toBe(4);
    expect(Array.from(buf.subarray(0, 4))).toEqual([0x40, 2, 1, 2]);
    expect(encodeAckReason(buf, 0, PacketType.PUBREC, 0x0102, 0x10)).toBe(5);
    expect(Array.from(buf.subarray(0, 5))).toEqual([0x50, 3, 1, 2, 0x10]);
    expect(encodeAckReason(buf, 0, PacketType.PUBREL, 7, 0x92)).toBe(5);
    expect(Array.from(buf.subarray(0, 5))).toEqual([0x62, 3, 0, 7, 0x92]);
    expect(parse5(buf.slice(0, 5))).toEqual([{ cmd: "pubrel", messageId: 7, reasonCode: 0x92 }]);
  });

  it("DISCONNECT and AUTH: Success without properties is 2 bytes, a reason alone 3", () => {
    const buf = new Uint8Array(16);
    expect(encodeReasonPacket(buf, 0, PacketType.DISCONNECT, 0)).toBe(2);
    expect(Array.from(buf.subarray(0, 2))).toEqual([0xe0, 0]);
    expect(encodeReasonPacket(buf, 0, PacketType.DISCONNECT, 0, new Uint8Array(0))).toBe(2);
    expect(encodeReasonPacket(buf, 0, PacketType.DISCONNECT, 0x04)).toBe(3);
    expect(Array.from(buf.subarray(0, 3))).toEqual([0xe0, 1, 0x04]);
    expect(parse5(buf.slice(0, 3))).toEqual([{ cmd: "disconnect", reasonCode: 4 }]);
    expect(encodeReasonPacket(buf, 0, PacketType.AUTH, 0)).toBe(2);
    expect(Array.from(buf.subarray(0, 2))).toEqual([0xf0, 0]);
  });

  it("a PUBLISH with a topic alias and an empty topic; without the alias an empty topic is refused", () => {
    const buf = new Uint8Array(64), none = new Uint8Array(0);
    const end = encodePublish(buf, 0, "", "hi", 1, false, false, 9, none, 7);
    expect(Array.from(buf.subarray(0, end))).toEqual([0x32, 10, 0, 0, 0, 9, 3, 0x23, 0, 7, 0x68, 0x69]);
    expect(parse5(buf.slice(0, end))).toEqual([{ cmd: "publish", topic: "", payload: [0x68, 0x69], qos: 1, retain: false, dup: false, messageId: 9, properties: { topicAlias: 7 } }]);
    expect(encodePublish(buf, 0, "", "hi", 0, false, false, 0, none, 0)).toBe(-ErrorCode.BadTopic);
    expect(encodePublish(buf, 0, "", "hi", 0, false, false, 0)).toBe(-ErrorCode.BadTopic);
    expect(encodePublish(buf, 0, "t", "hi", 0, false, false, 0, undefined, 3)).toBe(-ErrorCode.BadArgument); // an alias is 5.0 only
    expect(encodePublish(buf, 0, "t", "hi", 0, false, false, 0, none, 65536)).toBe(-ErrorCode.BadArgument);
    // an empty property block is still a 5.0 PUBLISH: property length 0 before the payload
    const e2 = encodePublish(buf, 0, "t", "x", 0, false, false, 0, none);
    expect(Array.from(buf.subarray(0, e2))).toEqual([0x30, 5, 0, 1, 0x74, 0, 0x78]);
  });

  it("Properties: encoded once, the same bytes each publish; topicAlias and unknown keys are refused", () => {
    const props = new Properties({ contentType: "application/json", userProperties: { unit: "C" } });
    expect(props.utf8).toBe(false);
    expect(walkProperties(props.bytes, 0, props.bytes.length).map((x) => [x.id, x.value])).toEqual([[0x03, "application/json"], [0x26, ["unit", "C"]]]);
    expect(new Properties({ payloadFormatIndicator: true }).utf8).toBe(true);
    const throws = (f: () => unknown, code: number) => {
      try { f(); } catch (e) { expect(e).toBeInstanceOf(MQTTError); expect((e as MQTTError).code).toBe(code); return; }
      throw new Error("did not throw");
    };
    throws(() => new Properties({ topicAlias: 3 } as never), ErrorCode.BadArgument);
    throws(() => new Properties({ sessionExpiryInterval: 3 } as never), ErrorCode.BadArgument);
    throws(() => new Properties({ willDelayInterval: 3 } as never), ErrorCode.BadArgument);
    throws(() => new Properties({ messageExpiryInterval: -1 }), ErrorCode.BadArgument);
    throws(() => new Properties({ contentType: "a\u0000" }), ErrorCode.BadUtf8);
    throws(() => new Properties({ userProperties: { k: "\ud800" } }), ErrorCode.BadUtf8);
    throws(() => encodedProperties({ subscriptionIdentifier: 0 }, PropertySet.Subscribe), ErrorCode.BadArgument);
    throws(() => encodedProperties({ subscriptionIdentifier: 268435456 }, PropertySet.Subscribe), ErrorCode.BadArgument);
    throws(() => encodedProperties({ receiveMaximum: 0 }, PropertySet.Connect), ErrorCode.BadArgument);
    throws(() => encodedProperties({ maximumPacketSize: 0 }, PropertySet.Connect), ErrorCode.BadArgument);
  });

  it("SUBSCRIBE options: No Local, Retain As Published and Retain Handling join the QoS; bad options are refused", () => {
    const buf = new Uint8Array(64), none = new Uint8Array(0);
    const end = encodeSubscribe(buf, 0, 5, "a/+", 2, none, SubscribeOption.NoLocal | SubscribeOption.RetainAsPublished | (2 << 4));
    expect(Array.from(buf.subarray(0, end))).toEqual([0x82, 9, 0, 5, 0, 0, 3, 0x61, 0x2f, 0x2b, 0x2e]);
    expect(encodeSubscribe(buf, 0, 5, "a", 0, none, 3 << 4)).toBe(-ErrorCode.BadArgument); // retain handling 3 is reserved
    expect(encodeSubscribe(buf, 0, 5, "a", 0, none, 0x40)).toBe(-ErrorCode.BadArgument);
    expect(encodeSubscribe(buf, 0, 5, "a", 0, none, 0x01)).toBe(-ErrorCode.BadArgument); // QoS bits are not options
    expect(encodeSubscribe(buf, 0, 5, "a", 0, undefined, SubscribeOption.NoLocal)).toBe(-ErrorCode.BadArgument); // 3.1.1 has no options
  });

  it("CONNECT: properties only with protocolVersion 5; level byte 5", () => {
    const buf = new Uint8Array(128);
    expect(encodeConnect(buf, 0, { clientId: "c", keepalive: 1, cleanSession: true, properties: { sessionExpiryInterval: 1 } })).toBe(-ErrorCode.BadArgument);
    expect(encodeConnect(buf, 0, { clientId: "c", keepalive: 1, cleanSession: true, will: { topic: "w", properties: { willDelayInterval: 1 } } })).toBe(-ErrorCode.BadArgument);
    const end = encodeConnect(buf, 0, { clientId: "c", keepalive: 1, cleanSession: true, protocolVersion: 5 });
    expect(Array.from(buf.subarray(0, end))).toEqual([0x10, 14, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 2, 0, 1, 0, 0, 1, 0x63]);
  });

  it("return BufferTooShort when a v5 packet does not fit exactly, and write nothing past the end", () => {
    const props = new Properties({ contentType: "text/plain", correlationData: Uint8Array.of(1, 2, 3), userProperties: { a: ["1", "2"] } });
    const cases: [string, (b: Uint8Array) => number][] = [
      ["connect", (b) => encodeConnect(b, 0, { clientId: "dev-1", keepalive: 30, cleanSession: true, username: "u", password: "p", protocolVersion: 5,
        properties: { sessionExpiryInterval: 60, userProperties: { x: "y" } }, will: { topic: "w/t", payload: "bye", qos: 1, properties: { willDelayInterval: 5 } } })],
      ["publish", (b) => encodePublish(b, 0, "a/b/€", "payload", 1, false, false, 9, props.bytes, 4)],
      ["publish alias only", (b) => encodePublish(b, 0, "", Uint8Array.of(1, 2), 0, false, false, 0, props.bytes, 4)],
      ["ack with reason", (b) => encodeAckReason(b, 0, PacketType.PUBACK, 1, 0x80)],
      ["subscribe", (b) => encodeSubscribe(b, 0, 1, "a/+/#", 1, encodedProperties({ subscriptionIdentifier: 200 }, PropertySet.Subscribe), SubscribeOption.NoLocal)],
      ["unsubscribe", (b) => encodeUnsubscribe(b, 0, 1, "a/+", encodedProperties({ userProperties: { k: "v" } }, PropertySet.Subscribe))],
      ["disconnect", (b) => encodeReasonPacket(b, 0, PacketType.DISCONNECT, 0x04, encodedProperties({ reasonString: "bye" }, PropertySet.Disconnect))],
      ["auth", (b) => encodeReasonPacket(b, 0, PacketType.AUTH, 0x18, Uint8Array.from(block([[0x15, "SCRAM"], [0x16, [1, 2]]])))],
    ];
    expectExactFit(cases);
  });
});

// ---- (3) fixed byte sequences: short forms, edge cases and malformed input

/** Decodes `bytes` as v5 (or 3.1.1 when v5 is false): the error name, or the packet. */
function dec(bytes: Uint8Array, v5 = true, capacity = 256): { status: string; p: Packet } {
  const r = new PushReader(capacity), p = new Packet();
  p.v5 = v5;
  let s: number;
  try { s = r.push(bytes, 0, bytes.length); } catch (e) { return { status: `threw ${(e as Error).message}`, p }; }
  if (s < 0) return { status: codeName(s), p };
  if (s !== ReadStatus.Complete) return { status: "incomplete", p };
  if (r.consumed !== bytes.length) return { status: `${bytes.length - r.consumed} bytes left over`, p };
  let res: number;
  try { res = decode(r, p); } catch (e) { return { status: `threw ${(e as Error).message}`, p }; }
  return { status: res === 0 ? "ok" : codeName(res), p };
}

const T = mqttStr("t"); // topic "t"
const pub = (props: number[], first = 0x30, topic = T, payload: number[] = [0x78]): Uint8Array =>
  packetBytes(first, [...topic, ...(first & 6 ? [0, 1] : []), ...withLength(props), ...payload]);
const bad8 = [0x61, 0xc3, 0x28]; // "a" then a broken 2-byte sequence
const nul = [0x61, 0x00];

describe("v5 fixtures: valid short forms and edge cases", () => {
  const valid: [string, Uint8Array, (p: Packet) => void][] = [
    ["PUBACK 2 bytes: Success", packetBytes(0x40, [0, 5]), (p) => { expect(p.packetId).toBe(5); expect(p.reasonCode).toBe(0); expect(p.propertiesEnd - p.propertiesStart).toBe(0); }],
    ["PUBACK 3 bytes: a reason code without property length", packetBytes(0x40, [0, 5, 0x10]), (p) => expect(p.reasonCode).toBe(0x10)],
    ["PUBREC 4 bytes: reason and empty properties", packetBytes(0x50, [0, 5, 0x80, 0]), (p) => expect(p.reasonCode).toBe(0x80)],
    ["PUBCOMP with a reason string", packetBytes(0x70, [0, 5, 0x92, ...withLength(block([[0x1f, "gone"]]))]),
      (p) => { expect(p.reasonCode).toBe(0x92); expect(p.reasonStringAt).toBe(5); }],
    ["DISCONNECT 0 bytes: normal disconnection", packetBytes(0xe0, []), (p) => expect(p.reasonCode).toBe(0)],
    ["DISCONNECT 1 byte: reason only", packetBytes(0xe0, [0x8e]), (p) => expect(p.reasonCode).toBe(0x8e)],
    ["DISCONNECT with server reference and reason string", packetBytes(0xe0, [0x9c, ...withLength(block([[0x1c, "other:1883"], [0x1f, "move"]]))]),
      (p) => { expect(p.reasonCode).toBe(0x9c); expect(findProperty(p.buf, p.propertiesStart, p.propertiesEnd, 0x1c)).toBe(3); }],
    ["AUTH 0 bytes: Success", packetBytes(0xf0, []), (p) => { expect(p.type).toBe(15); expect(p.reasonCode).toBe(0); }],
    ["AUTH continue with method and data", packetBytes(0xf0, [0x18, ...withLength(block([[0x15, "SCRAM-SHA-1"], [0x16, [1, 2, 3]]]))]),
      (p) => expect(p.reasonCode).toBe(0x18)],
    ["CONNACK 5.0 with empty properties", packetBytes(0x20, [1, 0, 0]), (p) => { expect(p.sessionPresent).toBe(true); expect(p.reasonCode).toBe(0); }],
    ["CONNACK 3.1.1-style refusal (2 bytes) read as its 5.0 reason", packetBytes(0x20, [0, 5]),
      (p) => { expect(p.returnCode).toBe(5); expect(p.reasonCode).toBe(0x87); }],
    ["PUBLISH with an alias and no topic", pub(block([[0x23, 9]]), 0x30, mqttStr("")), (p) => { expect(p.topicAlias).toBe(9); expect(p.topicEnd).toBe(p.topicStart); }],
    ["PUBLISH with two subscription ids and two user properties of one name", pub(block([[0x0b, 1], [0x26, ["k", "a"]], [0x0b, 268435455], [0x26, ["k", "b"]]])),
      (p) => { expect(p.subscriptionIds).toBe(2); expect(p.subscriptionId).toBe(1); expect(p.userPropertyCount).toBe(2); }],
    ["PUBLISH with every byte of payload after a 2-byte property length", pub(block([[0x26, ["n", "v".repeat(130)]]]), 0x32),
      (p) => { expect(p.propertiesEnd - p.propertiesStart).toBe(1 + 2 + 1 + 2 + 130); expect(p.payloadEnd - p.payloadStart).toBe(1); }],
    ["SUBACK with several reason codes", packetBytes(0x90, [0, 3, 0, 0, 1, 2, 0x80, 0x87, 0xa2]),
      (p) => { expect(Array.from(p.buf.subarray(p.payloadStart, p.payloadEnd))).toEqual([0, 1, 2, 0x80, 0x87, 0xa2]); expect(p.reasonCode).toBe(0); }],
    ["UNSUBACK with a reason string and codes", packetBytes(0xb0, [0, 3, ...withLength(block([[0x1f, "r"]])), 0x11, 0x8f]),
      (p) => { expect(Array.from(p.buf.subarray(p.payloadStart, p.payloadEnd))).toEqual([0x11, 0x8f]); expect(p.reasonCode).toBe(0x11); }],
  ];
  for (const [name, bytes, check] of valid) {
    it(name, () => {
      const { status, p } = dec(bytes);
      expect(status).toBe("ok");
      check(p);
      expect(summaryMismatches(p, findProperty)).toEqual([]);
      // mqtt-packet reads it as well (AUTH 0 bytes and the 3.1.1-style CONNACK aside: it insists on a reason code there)
      if (!name.startsWith("AUTH 0") && !name.includes("3.1.1-style")) expect(() => parse5(bytes)).not.toThrow();
    });
  }

  it("string properties read back from their *At offsets and findProperty", () => {
    const props = block([[0x01, 1], [0x02, 3600], [0x03, "text/€"], [0x08, "reply/to"], [0x09, [0, 255]], [0x26, ["a", "b"]]]);
    const { status, p } = dec(pub(props, 0x30, T, Array.from(Buffer.from("ok"))));
    expect(status).toBe("ok");
    const str = (at: number) => Buffer.from(p.buf.subarray(at + 2, at + 2 + ((p.buf[at] << 8) | p.buf[at + 1]))).toString("utf8");
    expect(p.payloadFormat).toBe(1);
    expect(p.messageExpiry).toBe(3600);
    expect(str(p.contentTypeAt)).toBe("text/€");
    expect(str(p.responseTopicAt)).toBe("reply/to");
    expect(Array.from(p.buf.subarray(p.correlationDataAt + 2, p.correlationDataAt + 4))).toEqual([0, 255]);
    expect(findProperty(p.buf, p.propertiesStart, p.propertiesEnd, 0x03)).toBe(p.contentTypeAt);
    expect(findProperty(p.buf, p.propertiesStart, p.propertiesEnd, 0x23)).toBe(-1);
    expect(p.topicAlias).toBe(0);
    expect(p.reasonStringAt).toBe(-1);
  });

  it("a 3.1.1 decode (v5 false) is unchanged: 5.0 forms are malformed there, and AUTH is a reserved type", () => {
    expect(dec(packetBytes(0x40, [0, 5, 0x10]), false).status).toBe("MalformedPacket");
    expect(dec(packetBytes(0xe0, [0x04]), false).status).toBe("MalformedPacket");
    expect(dec(packetBytes(0xf0, []), false).status).toBe("MalformedPacket");
    expect(dec(packetBytes(0x20, [0, 0, 0]), false).status).toBe("MalformedPacket");
    const { status, p } = dec(packetBytes(0x30, [...T, 0x78]), false); // a 3.1.1 PUBLISH: the property-length byte would be payload
    expect(status).toBe("ok");
    expect(Array.from(p.buf.subarray(p.payloadStart, p.payloadEnd))).toEqual([0x78]);
  });

  it("a v5 packet left over from a previous decode leaves no property fields behind", () => {
    const r = new PushReader(256), p = packet5();
    const a = pub(block([[0x23, 4], [0x0b, 7], [0x03, "x"], [0x26, ["a", "b"]]]), 0x30);
    r.push(a, 0, a.length); expect(decodeAny(r, p)).toBe(0);
    const b = packetBytes(0x40, [0, 1]);
    r.push(b, 0, b.length); expect(decodeAny(r, p)).toBe(0);
    expect([p.topicAlias, p.subscriptionIds, p.subscriptionId, p.contentTypeAt, p.userPropertyCount, p.reasonCode]).toEqual([0, 0, 0, -1, 0, 0]);
    expect(p.propertiesEnd - p.propertiesStart).toBe(0);
  });
});

describe("which property may come in which packet (spec 2.2.2.2, the table written out here)", () => {
  // id -> packets a broker sends that may carry it
  const C = "CONNACK", P = "PUBLISH", ACKS = ["PUBACK", "PUBREC", "PUBREL", "PUBCOMP"], SA = "SUBACK", UA = "UNSUBACK", D = "DISCONNECT", AU = "AUTH";
  const allowed: Record<number, string[]> = {
    0x01: [P], 0x02: [P], 0x03: [P], 0x08: [P], 0x09: [P], 0x0b: [P], 0x11: [C, D], 0x12: [C], 0x13: [C], 0x15: [C, AU], 0x16: [C, AU],
    0x17: [], 0x18: [], 0x19: [], 0x1a: [C], 0x1c: [C, D], 0x1f: [C, ...ACKS, SA, UA, D, AU], 0x21: [C], 0x22: [C], 0x23: [P], 0x24: [C],
    0x25: [C], 0x26: [C, P, ...ACKS, SA, UA, D, AU], 0x27: [C], 0x28: [C], 0x29: [C], 0x2a: [C],
  };
  const value: Record<string, unknown> = { byte: 1, u16: 5, u32: 5, var: 5, string: "x", binary: [1], pair: ["k", "v"] };
  const kinds: Record<number, string> = { 0x01: "byte", 0x02: "u32", 0x03: "string", 0x08: "string", 0x09: "binary", 0x0b: "var", 0x11: "u32", 0x12: "string",
    0x13: "u16", 0x15: "string", 0x16: "binary", 0x17: "byte", 0x18: "u32", 0x19: "byte", 0x1a: "string", 0x1c: "string", 0x1f: "string", 0x21: "u16",
    0x22: "u16", 0x23: "u16", 0x24: "byte", 0x25: "byte", 0x26: "pair", 0x27: "u32", 0x28: "byte", 0x29: "byte", 0x2a: "byte" };
  const withProps: Record<string, (props: number[]) => Uint8Array> = {
    CONNACK: (b) => packetBytes(0x20, [0, 0, ...withLength(b)]),
    PUBLISH: (b) => pub(b, 0x32),
    PUBACK: (b) => packetBytes(0x40, [0, 1, 0, ...withLength(b)]), PUBREC: (b) => packetBytes(0x50, [0, 1, 0, ...withLength(b)]),
    PUBREL: (b) => packetBytes(0x62, [0, 1, 0, ...withLength(b)]), PUBCOMP: (b) => packetBytes(0x70, [0, 1, 0, ...withLength(b)]),
    SUBACK: (b) => packetBytes(0x90, [0, 1, ...withLength(b), 1]), UNSUBACK: (b) => packetBytes(0xb0, [0, 1, ...withLength(b), 0]),
    DISCONNECT: (b) => packetBytes(0xe0, [0, ...withLength(b)]), AUTH: (b) => packetBytes(0xf0, [0x18, ...withLength(b)]),
  };
  for (const [packet, make] of Object.entries(withProps)) {
    it(`${packet}: each of the 42 ids 0x01..0x2a accepted alone exactly where the spec allows it`, () => {
      const got: string[] = [], want: string[] = [];
      for (let id = 1; id <= 0x2a; id++) {
        const kind = kinds[id];
        const bytes = make(kind ? block([[id, value[kind]]]) : [id, 0, 0, 0, 0]);
        got.push(`0x${id.toString(16)} ${dec(bytes).status}`);
        want.push(`0x${id.toString(16)} ${allowed[id]?.includes(packet) ? "ok" : "MalformedPacket"}`);
      }
      expect(got).toEqual(want);
    });
  }
});

describe("a 5.0 PUBLISH bigger than rxBuffer", () => {
  it("keeps its topic, packet id and properties when they fit, so a topic alias can still be resolved", () => {
    const bytes = pub(block([[0x23, 3], [0x0b, 9]]), 0x32, mqttStr("a/b"), new Array(500).fill(7));
    const { status, p } = dec(bytes, true, 64);
    expect(status).toBe("PacketTooLarge");
    expect([p.topicEnd - p.topicStart, p.packetId, p.topicAlias, p.subscriptionId, p.payloadEnd - p.payloadStart]).toEqual([3, 1, 3, 9, 0]);
  });
  it("whose properties run past rxBuffer still says PacketTooLarge, not MalformedPacket", () => {
    const bytes = pub(block([[0x26, ["k", "v".repeat(100)]]]), 0x32, mqttStr("a/b"), [1]);
    expect(dec(bytes, true, 64).status).toBe("PacketTooLarge");
  });
});

describe("v5 fixtures: malformed input is refused with a known ErrorCode, never a throw", () => {
  const cases: [string, Uint8Array, string][] = [
    // duplicate single-valued properties (2.2.2.2)
    ["PUBLISH: payload format indicator twice", pub(block([[0x01, 0], [0x01, 1]])), "MalformedPacket"],
    ["PUBLISH: topic alias twice", pub(block([[0x23, 1], [0x23, 2]])), "MalformedPacket"],
    ["PUBLISH: content type twice", pub(block([[0x03, "a"], [0x03, "b"]])), "MalformedPacket"],
    ["PUBLISH: correlation data twice", pub(block([[0x09, [1]], [0x09, [2]]])), "MalformedPacket"],
    ["PUBACK: reason string twice", packetBytes(0x40, [0, 1, 0x10, ...withLength(block([[0x1f, "a"], [0x1f, "b"]]))]), "MalformedPacket"],
    ["CONNACK: receive maximum twice", packetBytes(0x20, [0, 0, ...withLength(block([[0x21, 5], [0x21, 6]]))]), "MalformedPacket"],
    ["CONNACK: maximum packet size twice", packetBytes(0x20, [0, 0, ...withLength(block([[0x27, 500], [0x27, 600]]))]), "MalformedPacket"],
    // a property the packet may not carry
    ["PUBLISH with session expiry interval", pub(block([[0x11, 5]])), "MalformedPacket"],
    ["PUBLISH with a reason string", pub(block([[0x1f, "r"]])), "MalformedPacket"],
    ["PUBLISH with will delay interval", pub(block([[0x18, 5]])), "MalformedPacket"],
    ["CONNACK with a topic alias", packetBytes(0x20, [0, 0, ...withLength(block([[0x23, 1]]))]), "MalformedPacket"],
    ["CONNACK with a subscription identifier", packetBytes(0x20, [0, 0, ...withLength(block([[0x0b, 1]]))]), "MalformedPacket"],
    ["PUBACK with a content type", packetBytes(0x40, [0, 1, 0, ...withLength(block([[0x03, "x"]]))]), "MalformedPacket"],
    ["SUBACK with a subscription identifier", packetBytes(0x90, [0, 1, ...withLength(block([[0x0b, 1]])), 0]), "MalformedPacket"],
    ["DISCONNECT with a topic alias", packetBytes(0xe0, [0, ...withLength(block([[0x23, 1]]))]), "MalformedPacket"],
    ["AUTH with session expiry interval", packetBytes(0xf0, [0x18, ...withLength(block([[0x11, 1]]))]), "MalformedPacket"],
    ["unknown property 0x04", pub(block([[0x04, 0]])), "MalformedPacket"],
    ["property id 0", pub([0x00, 0x00]), "MalformedPacket"],
    ["property id 0x2b (past the table)", pub([0x2b, 0x00]), "MalformedPacket"],
    // lengths
    ["property length past the packet", pub([], 0x30, T, []).map((x, i, a) => (i === a.length - 1 ? 5 : x)), "MalformedPacket"],
    ["PUBACK property length past the packet", packetBytes(0x40, [0, 1, 0, 9, 0x1f, 0, 0]), "MalformedPacket"],
    ["CONNACK property length past the packet", packetBytes(0x20, [0, 0, 4, 0x24, 1]), "MalformedPacket"],
    ["a string value past the block", pub([0x03, 0, 5, 0x61, 0x62]), "MalformedPacket"],
    ["a 4-byte value cut by the block's end", pub([0x02, 0, 0, 1]), "MalformedPacket"],
    ["user property name without its value", pub([0x26, 0, 1, 0x61]), "MalformedPacket"],
    ["a property length over 4 bytes", packetBytes(0x30, [...T, 0x80, 0x80, 0x80, 0x80, 0x01]), "MalformedPacket"],
    ["CONNACK 5.0 with bytes after its properties", packetBytes(0x20, [0, 0, 0, 0x99]), "MalformedPacket"],
    ["DISCONNECT with bytes after its properties", packetBytes(0xe0, [0, 0, 1]), "MalformedPacket"],
    ["SUBACK with properties but no reason code", packetBytes(0x90, [0, 1, 0]), "MalformedPacket"],
    // UTF-8 in string properties
    ["content type not UTF-8", pub([0x03, 0, 3, ...bad8]), "BadUtf8"],
    ["response topic with U+0000", pub([0x08, 0, 2, ...nul]), "BadUtf8"],
    ["user property name not UTF-8", pub([0x26, 0, 3, ...bad8, 0, 1, 0x61]), "BadUtf8"],
    ["user property value not UTF-8", pub([0x26, 0, 1, 0x61, 0, 3, ...bad8]), "BadUtf8"],
    ["PUBACK reason string not UTF-8", packetBytes(0x40, [0, 1, 0x80, ...withLength([0x1f, 0, 3, ...bad8])]), "BadUtf8"],
    ["CONNACK assigned client id with a surrogate (ED A0 80)", packetBytes(0x20, [0, 0, ...withLength([0x12, 0, 3, 0xed, 0xa0, 0x80])]), "BadUtf8"],
    // values out of range
    ["payload format indicator 2", pub(block([[0x01, 2]])), "MalformedPacket"],
    ["topic alias 0", pub(block([[0x23, 0]])), "MalformedPacket"],
    ["subscription identifier 0", pub(block([[0x0b, 0]])), "MalformedPacket"],
    ["subscription identifier not in its shortest form (0x81 0x00)", pub(block([[0x0b, [0x81, 0x00]]])), "MalformedPacket"],
    ["subscription identifier over 4 bytes", pub(block([[0x0b, [0xff, 0xff, 0xff, 0xff, 0x01]]])), "MalformedPacket"],
    ["CONNACK receive maximum 0", packetBytes(0x20, [0, 0, ...withLength(block([[0x21, 0]]))]), "MalformedPacket"],
    ["CONNACK maximum packet size 0", packetBytes(0x20, [0, 0, ...withLength(block([[0x27, 0]]))]), "MalformedPacket"],
    ["CONNACK maximum QoS 2", packetBytes(0x20, [0, 0, ...withLength(block([[0x24, 2]]))]), "MalformedPacket"],
    ["CONNACK retain available 2", packetBytes(0x20, [0, 0, ...withLength(block([[0x25, 2]]))]), "MalformedPacket"],
    // the packet around the properties
    ["PUBLISH with neither topic nor alias", pub([], 0x30, mqttStr("")), "MalformedPacket"],
    ["PUBLISH topic with a wildcard", pub([], 0x30, mqttStr("a/+")), "MalformedPacket"],
    ["CONNACK reason 0x01 (not a CONNACK code)", packetBytes(0x20, [0, 1, 0]), "MalformedPacket"],
    ["CONNACK session present with a refusal", packetBytes(0x20, [1, 0x87, 0]), "MalformedPacket"],
    ["PUBACK reason 0x05 (not a reason code)", packetBytes(0x40, [0, 1, 0x05]), "MalformedPacket"],
    ["PUBREL reason 0x10 (PUBREL: 0 or 0x92 only)", packetBytes(0x62, [0, 1, 0x10]), "MalformedPacket"],
    ["SUBACK reason 0x11 (an UNSUBACK code)", packetBytes(0x90, [0, 1, 0, 0x11]), "MalformedPacket"],
    ["UNSUBACK reason 0x01 (a SUBACK code)", packetBytes(0xb0, [0, 1, 0, 0x01]), "MalformedPacket"],
    ["DISCONNECT reason 0x18 (an AUTH code)", packetBytes(0xe0, [0x18]), "MalformedPacket"],
    ["AUTH reason 0x04", packetBytes(0xf0, [0x04]), "MalformedPacket"],
    ["AUTH with flags", packetBytes(0xf1, []), "MalformedPacket"],
    ["SUBSCRIBE from a broker", packetBytes(0x82, [0, 1, 0, ...mqttStr("a"), 0]), "ProtocolViolation"],
  ];
  for (const [name, bytes, want] of cases) {
    it(`${name} -> ${want}`, () => {
      expect(dec(bytes).status, Buffer.from(bytes).toString("hex")).toBe(want);
    });
  }

  it("every single-byte truncation of a valid property block is refused, never read past", () => {
    const props = block([[0x01, 1], [0x02, 9], [0x03, "ct"], [0x08, "r/t"], [0x09, [1, 2]], [0x0b, 300], [0x23, 2], [0x26, ["k", "v"]]]);
    for (let n = 0; n < props.length; n++) {
      // the block cut at n, its length saying n: a value may run past the block (malformed) or end exactly (ok)
      const cut = props.slice(0, n);
      const status = dec(pub(cut, 0x30, T, [])).status;
      let whole = true;
      try { walkProperties(Uint8Array.from(cut), 0, cut.length); } catch { whole = false; }
      expect(status, `cut at ${n}`).toBe(whole ? "ok" : "MalformedPacket");
    }
  });
});

describe("decodeOne5 helper", () => {
  it("reports incomplete input instead of guessing", () => {
    expect(decodeOne5(Uint8Array.of(0x40, 2, 0))[0]).toBe(1000);
    expect(decodeOne5(Uint8Array.of(0x40, 2, 0, 1))[0]).toBe(0);
  });
});

// ---- MQTT 5.0 rules the encoders must keep (found by H-A; see /work/briefs/h-a-bugs.md)

/** The encoder refused: a negative ErrorCode, or an MQTTError thrown (property objects throw). */
function refused(f: () => number): boolean {
  try { return f() < 0; } catch (e) { return e instanceof MQTTError; }
}

describe("MQTT 5.0 rules for what we send", () => {
  const buf = new Uint8Array(256);

  it("CONNECT 5.0 may carry a password without a user name (3.1.2.9, unlike 3.1.1's MQTT-3.1.2-22)", () => {
    const end = encodeConnect(buf, 0, { clientId: "c", keepalive: 10, cleanSession: true, protocolVersion: 5, password: "token" });
    expect(end).toBeGreaterThan(0);
    expect(parse5(buf.slice(0, end))).toEqual([{ cmd: "connect", clientId: "c", keepalive: 10, clean: true, password: Array.from(Buffer.from("token")) }]);
    expect(buf[9] & 0xc0).toBe(0x40); // password flag without user name flag
  });

  it("Authentication Data without an Authentication Method is refused (3.1.2.11.10: a Protocol Error)", () => {
    expect(refused(() => encodeConnect(buf, 0, { clientId: "c", keepalive: 10, cleanSession: true, protocolVersion: 5, properties: { authenticationData: Uint8Array.of(1) } }))).toBe(true);
  });

  it("No Local on a shared subscription is refused (MQTT-3.8.3-4: a Protocol Error)", () => {
    expect(encodeSubscribe(buf, 0, 1, "$share/g/a", 0, new Uint8Array(0), SubscribeOption.NoLocal)).toBe(-ErrorCode.BadArgument);
    expect(encodeSubscribe(buf, 0, 1, "$share/g/a", 0, new Uint8Array(0), SubscribeOption.RetainAsPublished)).toBeGreaterThan(0);
  });

  it("a Response Topic with a wildcard is refused (MQTT-3.3.2-14), in PUBLISH and will properties", () => {
    for (const t of ["a/+", "a/#", "#"]) {
      expect(refused(() => new Properties({ responseTopic: t }).bytes.length), t).toBe(true);
      expect(refused(() => encodeConnect(buf, 0, { clientId: "c", keepalive: 10, cleanSession: true, protocolVersion: 5, will: { topic: "w", properties: { responseTopic: t } } })), t).toBe(true);
    }
    expect(refused(() => new Properties({ responseTopic: "a/b" }).bytes.length)).toBe(false);
  });
});

describe("MQTT 5.0 rules for what we receive", () => {
  it("a 3.1.1-style CONNACK refusal with Session Present set is malformed in a 5.0 decode too (3.1.1 MQTT-3.2.2-4)", () => {
    expect(dec(packetBytes(0x20, [1, 5]), false).status).toBe("MalformedPacket"); // what the 3.1.1 decode says
    expect(dec(packetBytes(0x20, [1, 5])).status).toBe("MalformedPacket");
    expect(dec(packetBytes(0x20, [0, 5])).status).toBe("ok");
  });
});
