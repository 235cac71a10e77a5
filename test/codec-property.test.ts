// Property tests of the codec against mqtt-packet as an independent oracle: for arbitrary valid packets,
// (1) our bytes parse the same with mqtt-packet, (2) mqtt-packet's bytes decode the same with our reader fed
// in random pieces (push and pull), (3) both produce identical bytes, and streams of many packets come out whole.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encodePublish } from "../src/mqtt/codec.ts";
import { chunk, decodeStream, ours, parseWithMqttPacket, theirs, type Fields } from "./support/codec-oracle.ts";

const RUNS = 400;

// ---- arbitraries

/** Characters weighted so ASCII dominates but 2-, 3- and 4-byte UTF-8 (astral) appear in most strings. */
const char = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(..."abcxyz019-_/ .$") },
  { weight: 2, arbitrary: fc.integer({ min: 0x01, max: 0x7f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0x7ff }).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x800, max: 0xffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);
const mqttString = (maxLength: number, minLength = 0) => fc.string({ unit: char, minLength, maxLength });
const topicChar = char.filter((c) => c !== "+" && c !== "#");
const topicName = fc.string({ unit: topicChar, minLength: 1, maxLength: 40 });
const level = fc.string({ unit: topicChar.filter((c) => c !== "/"), maxLength: 8 });
const shareGroup = fc.string({ unit: topicChar.filter((c) => c !== "/"), minLength: 1, maxLength: 6 });
const filter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 5 }), fc.boolean(), fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: shareGroup }))
  .map(([levels, hash, group]) => (group !== null ? `$share/${group}/` : "") + [...levels, ...(hash ? ["#"] : [])].join("/"))
  .filter((f) => f.length > 0 && !/^\$share\/[^/]*\/$/.test(f)); // "$share/g/" alone names no filter
const qos = fc.constantFrom(0 as const, 1 as const, 2 as const);
const packetId = fc.integer({ min: 1, max: 65535 });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((b) => Array.from(b));
const payload = fc.oneof({ weight: 8, arbitrary: bytes(64) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 100, maxLength: 20000 }).map((b) => Array.from(b)) });

const connect: fc.Arbitrary<Fields> = fc
  .record({
    clientId: mqttString(23), keepalive: fc.integer({ min: 0, max: 65535 }), clean: fc.boolean(),
    will: fc.option(fc.record({ topic: topicName, payload: bytes(100), qos, retain: fc.boolean() })),
    auth: fc.option(fc.record({ username: mqttString(20), password: fc.option(bytes(40)) })),
  })
  .map(({ clientId, keepalive, clean, will, auth }) => {
    // mqtt-packet (rightly) refuses an empty client id without a clean session (MQTT-3.1.3-7)
    const f: Fields = { cmd: "connect", clientId, keepalive, clean: clean || clientId === "" };
    if (will) f.will = will;
    if (auth) { f.username = auth.username; if (auth.password) f.password = auth.password; }
    return f;
  });
const connack: fc.Arbitrary<Fields> = fc
  .record({ sessionPresent: fc.boolean(), returnCode: fc.integer({ min: 0, max: 5 }) })
  .map(({ sessionPresent, returnCode }) => ({ cmd: "connack", sessionPresent: sessionPresent && returnCode === 0, returnCode }));
const publish: fc.Arbitrary<Fields> = fc
  .record({ topic: topicName, payload, qos, retain: fc.boolean(), dup: fc.boolean(), messageId: packetId })
  .map(({ topic, payload, qos, retain, dup, messageId }) =>
    qos === 0 ? { cmd: "publish", topic, payload, qos, retain, dup: false } : { cmd: "publish", topic, payload, qos, retain, dup, messageId });
const ack: fc.Arbitrary<Fields> = fc.record({ cmd: fc.constantFrom("puback", "pubrec", "pubrel", "pubcomp", "unsuback" as const), messageId: packetId });
const subscribe = (max: number): fc.Arbitrary<Fields> =>
  fc.record({ messageId: packetId, subscriptions: fc.array(fc.record({ topic: filter, qos }), { minLength: 1, maxLength: max }) })
    .map((r) => ({ cmd: "subscribe", ...r }));
const suback: fc.Arbitrary<Fields> = fc.record({ messageId: packetId, granted: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 10 }) })
  .map((r) => ({ cmd: "suback", ...r }));
const unsubscribe = (max: number): fc.Arbitrary<Fields> =>
  fc.record({ messageId: packetId, unsubscriptions: fc.array(filter, { minLength: 1, maxLength: max }) }).map((r) => ({ cmd: "unsubscribe", ...r }));
const empty: fc.Arbitrary<Fields> = fc.constantFrom("pingreq", "pingresp", "disconnect" as const).map((cmd) => ({ cmd }));

/** Packets both encoders can write (ours writes one filter per SUBSCRIBE/UNSUBSCRIBE). */
const kinds: Record<string, fc.Arbitrary<Fields>> = {
  CONNECT: connect, CONNACK: connack, PUBLISH: publish, "PUBACK/PUBREC/PUBREL/PUBCOMP/UNSUBACK": ack,
  SUBSCRIBE: subscribe(1), SUBACK: suback, UNSUBSCRIBE: unsubscribe(1), "PINGREQ/PINGRESP/DISCONNECT": empty,
};
/** Packets mqtt-packet can write, for the direction into our decoder (several filters per packet). */
const anyPacket = fc.oneof(connect, connack, publish, ack, subscribe(4), suback, unsubscribe(4), empty);

/** Cut points inside a packet of `n` bytes. */
const cutsFor = (n: number) => fc.array(fc.integer({ min: 0, max: n }), { maxLength: 8 });

// ---- properties

for (const [name, arb] of Object.entries(kinds)) {
  describe(name, () => {
    it("(1) our bytes parse the same with mqtt-packet", () => {
      fc.assert(fc.property(arb, (f) => { expect(parseWithMqttPacket(ours(f))).toEqual([f]); }), { numRuns: RUNS });
    });

    it("(2) mqtt-packet's bytes decode the same with our reader, split anywhere (push and pull)", () => {
      fc.assert(
        fc.property(arb.chain((f) => fc.tuple(fc.constant(f), cutsFor(theirs(f).length), fc.integer({ min: 0, max: 64 }))), ([f, cuts, slack]) => {
          const data = theirs(f);
          const chunks = chunk(data, cuts);
          expect(decodeStream(chunks, data.length + slack, "push")).toEqual([{ fields: f }]);
          expect(decodeStream(chunks, data.length + slack, "pull")).toEqual([{ fields: f }]);
        }),
        { numRuns: RUNS },
      );
    });

    it("(3) both encoders write identical bytes", () => {
      fc.assert(fc.property(arb, (f) => { expect(Buffer.from(ours(f)).equals(Buffer.from(theirs(f)))).toBe(true); }), { numRuns: RUNS });
    });
  });
}

describe("several filters per packet (mqtt-packet -> ours)", () => {
  it("SUBSCRIBE and UNSUBSCRIBE with up to 4 filters decode entry by entry", () => {
    fc.assert(fc.property(fc.oneof(subscribe(4), unsubscribe(4)), (f) => {
      expect(decodeStream([theirs(f)], 4096, "push")).toEqual([{ fields: f }]);
    }), { numRuns: RUNS });
  });
});

describe("streams of packets", () => {
  it("all packets written by mqtt-packet back to back come out of our reader, in order, however the stream is cut", () => {
    fc.assert(
      fc.property(
        fc.array(anyPacket, { minLength: 1, maxLength: 12 }).chain((fs) => {
          const total = fs.reduce((n, f) => n + theirs(f).length, 0);
          return fc.tuple(fc.constant(fs), fc.array(fc.integer({ min: 0, max: total }), { maxLength: 20 }));
        }),
        ([fs, cuts]) => {
          const data = Buffer.concat(fs.map(theirs));
          const want = fs.map((f) => ({ fields: f }));
          expect(decodeStream(chunk(data, cuts), 65536, "push")).toEqual(want);
          expect(decodeStream(chunk(data, cuts), 65536, "pull")).toEqual(want);
          expect(decodeStream([data], 65536, "push")).toEqual(want); // several packets in one chunk
        },
      ),
      { numRuns: 300 },
    );
  });

  it("all packets we write back to back parse with mqtt-packet", () => {
    fc.assert(fc.property(fc.array(fc.oneof(...Object.values(kinds)), { minLength: 1, maxLength: 12 }), (fs) => {
      expect(parseWithMqttPacket(Buffer.concat(fs.map(ours)))).toEqual(fs);
    }), { numRuns: 300 });
  });
});

describe("PUBLISH payloads given as strings and numbers", () => {
  // Any JS string, lone surrogates included: both sides write them as U+FFFD.
  const anyJsString = fc.string({ unit: fc.oneof(char, fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), fc.constant("\u0000")), maxLength: 60 });

  it("a string payload gives the same bytes as mqtt-packet's", () => {
    fc.assert(fc.property(topicName, anyJsString, qos, packetId, (topic, s, q, id) => {
      const buf = new Uint8Array(1024);
      const end = encodePublish(buf, 0, topic, s, q, false, false, id);
      const want = theirs({ cmd: "publish", topic, payload: Array.from(Buffer.from(s, "utf8")), qos: q, retain: false, dup: false, ...(q ? { messageId: id } : {}) });
      expect(Buffer.from(buf.subarray(0, end)).equals(Buffer.from(want))).toBe(true);
    }), { numRuns: RUNS });
  });

  const numberText = (n: number): string => {
    const buf = new Uint8Array(64);
    const end = encodePublish(buf, 0, "t", n, 0, false, false, 0);
    const [out] = decodeStream([buf.slice(0, end)], 64, "push");
    if (!("fields" in out) || out.fields.cmd !== "publish") throw new Error(`not a publish: ${JSON.stringify(out)}`);
    return Buffer.from(out.fields.payload).toString("latin1");
  };

  it("a number with up to 6 decimals is written exactly as JavaScript writes it", () => {
    // m / 10^k is the double nearest that decimal; below 1e9 the 6-digit scaling rounds back to it.
    fc.assert(fc.property(fc.integer({ min: -(10 ** 15), max: 10 ** 15 }), fc.integer({ min: 0, max: 6 }), (m, k) => {
      const n = m / 10 ** k;
      fc.pre(Math.abs(n) < 1e9);
      expect(numberText(n)).toBe(String(n));
    }), { numRuns: 1000 });
  });

  it("any other number below 1e9 is rounded to 6 decimals, without exponent or trailing zeros", () => {
    fc.assert(fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), (n) => {
      const text = numberText(n);
      expect(text).toMatch(/^-?(0|[1-9]\d*)(\.\d*[1-9])?$/);
      // half a unit of the 6th decimal, plus a few ulps of n for the scaling and for Number(text)
      expect(Math.abs(Number(text) - n)).toBeLessThanOrEqual(0.5e-6 + 4 * Math.abs(n) * 2 ** -52 + 1e-12);
    }), { numRuns: 1000 });
  });
});
