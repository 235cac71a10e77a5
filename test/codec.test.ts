// Unit tests of the MQTT codec: the shared byte fixtures, encoder limits and errors, the stream reader,
// remaining-length boundaries, payload forms (string, number) and the error messages.
import { describe, expect, it } from "vitest";
import { expectExactFit } from "./support/exact-fit.ts";
import { decode, encodeAck, encodeConnect, encodeEmpty, encodePublish, encodeSubscribe, encodeUnsubscribe, MAX_REMAINING_LENGTH, Packet, PacketReader, PacketType, packetSize, ReadStatus, remainingLengthSize, writeHeader } from "../src/mqtt/codec.ts";
import { decimalLength, readDecimal, writeDecimal } from "../src/mqtt/decimal.ts";
import { ErrorCode, MQTTError, type ErrorCodeValue } from "../src/mqtt/errors.ts";
import { packets, type PacketFixture } from "./support/fixtures/packets.ts";
import { chunk, decodeStream, filterEntries, fromOurPacket, outcomeOf, ours, parseWithMqttPacket, theirs } from "./support/codec-oracle.ts";
import { ChunkSource, pullChunks, pushChunks } from "./support/codec-stream.ts";
import { PushReader, ServerPacket, decodeAny, encodeConnack, encodePublishBytes, encodeSuback } from "../sim/brokers/server-codec.ts";

const codeName = (code: number): string => Object.entries(ErrorCode).find(([, v]) => v === -code)?.[0] ?? `unknown ${code}`;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Everything a fixture can expect, read from the reader and decoded Packet. */
function observe(f: PacketFixture, feed: "whole" | "bytewise" | "pull"): PacketFixture["expect"] {
  const r = new PushReader(f.capacity ?? 256), p = new ServerPacket();
  const data = Uint8Array.from(f.bytes);
  let s: number = ReadStatus.NeedMore;
  if (feed === "whole") {
    s = r.push(data, 0, data.length);
    expect(r.consumed).toBe(data.length); // one packet per fixture: all of it is used
  } else if (feed === "bytewise") {
    for (let i = 0; i < data.length; i++) {
      expect(s).toBe(ReadStatus.NeedMore);
      s = r.push(data, i, i + 1);
      if (s < 0) break;
    }
  } else {
    const src = new ChunkSource();
    src.feed(data);
    s = r.pull(src);
    expect(src.available()).toBe(0);
  }
  if (s < 0) return { error: codeName(s) };
  if (s === ReadStatus.NeedMore) return { needMore: true };
  return describe1(r, p);
}

function describe1(r: PushReader, p: ServerPacket): PacketFixture["expect"] {
  const res = decodeAny(r, p);
  const out: PacketFixture["expect"] = { type: p.type };
  if (res !== 0) out.error = codeName(res);
  const b = p.buf;
  switch (p.type) {
    case PacketType.CONNECT:
      if (res !== 0) break;
      out.clientId = utf8.decode(b.subarray(p.connect!.clientIdStart, p.connect!.clientIdEnd));
      out.keepalive = p.connect!.keepalive;
      out.cleanSession = (p.connect!.connectFlags & 2) !== 0;
      if (p.connect!.usernameStart >= 0) out.username = utf8.decode(b.subarray(p.connect!.usernameStart, p.connect!.usernameEnd));
      if (p.connect!.passwordStart >= 0) out.password = Array.from(b.subarray(p.connect!.passwordStart, p.connect!.passwordEnd));
      if (p.connect!.connectFlags & 4) out.will = { topic: utf8.decode(b.subarray(p.connect!.willTopicStart, p.connect!.willTopicEnd)),
        payload: Array.from(b.subarray(p.connect!.willPayloadStart, p.connect!.willPayloadEnd)), qos: (p.connect!.connectFlags >> 3) & 3, retain: (p.connect!.connectFlags & 0x20) !== 0 };
      break;
    case PacketType.CONNACK:
      if (res === 0) { out.sessionPresent = p.sessionPresent; out.returnCode = p.returnCode; }
      break;
    case PacketType.PUBLISH:
      if (res !== 0 && res !== -ErrorCode.PacketTooLarge) break;
      if (p.topicEnd === 0) break; // topic not readable
      out.qos = p.qos; out.dup = p.dup; out.retain = p.retain;
      out.topic = utf8.decode(b.subarray(p.topicStart, p.topicEnd));
      out.payload = Array.from(b.subarray(p.payloadStart, p.payloadEnd));
      if (p.qos > 0) out.packetId = p.packetId;
      break;
    case PacketType.SUBSCRIBE: case PacketType.UNSUBSCRIBE:
      if (res !== 0) break;
      out.packetId = p.packetId;
      out.filters = filterEntries(p).map((e) => (p.type === PacketType.SUBSCRIBE ? e : { topic: e.topic }));
      break;
    case PacketType.SUBACK:
      if (res === 0) { out.packetId = p.packetId; out.codes = Array.from(b.subarray(p.payloadStart, p.payloadEnd)); }
      break;
    case PacketType.PUBACK: case PacketType.PUBREC: case PacketType.PUBREL: case PacketType.PUBCOMP: case PacketType.UNSUBACK:
      if (res === 0) out.packetId = p.packetId;
      break;
  }
  return out;
}

describe("shared byte fixtures (test/support/fixtures/packets.ts)", () => {
  it("has valid and malformed cases for every packet type", () => {
    const types = new Set(packets.filter((f) => !f.expect.error && !f.expect.needMore).map((f) => f.expect.type));
    for (let t = 1; t <= 14; t++) expect(types.has(t), `valid fixture of type ${t}`).toBe(true);
    for (const e of ["MalformedLength", "MalformedPacket", "BadUtf8", "PacketTooLarge"])
      expect(packets.some((f) => f.expect.error === e), e).toBe(true);
    for (const f of packets) if (f.expect.error) expect(ErrorCode).toHaveProperty(f.expect.error);
  });

  for (const f of packets) {
    it(f.name, () => {
      // The fixture's expectation, filled with the fields that must be absent or zero when not named.
      for (const feed of ["whole", "bytewise", "pull"] as const) {
        const seen = observe(f, feed);
        for (const [k, v] of Object.entries(f.expect)) expect(seen[k as keyof typeof seen], `${feed}: ${k}`).toEqual(v);
        if (!f.expect.error) expect(seen.error, feed).toBeUndefined();
        if (!f.expect.needMore) expect(seen.needMore, feed).toBeUndefined();
      }
      // A valid, complete packet must mean the same to mqtt-packet (checks the fixture itself).
      if (!f.expect.error && !f.expect.needMore) {
        const [theirs1] = parseWithMqttPacket(Uint8Array.from(f.bytes));
        const [ours1] = decodeStream([Uint8Array.from(f.bytes)], f.capacity ?? 256, "push");
        expect(ours1).toEqual({ fields: theirs1 });
      }
    });
  }

  it("all fixtures back to back in one stream come out in order", () => {
    const stream = packets.filter((f) => !f.expect.needMore && !f.capacity && f.expect.error !== "MalformedLength");
    const data = Uint8Array.from(stream.flatMap((f) => f.bytes));
    for (const mode of ["push", "pull"] as const) {
      const out = decodeStream(chunk(data, [3, 50, 51, 200, 333]), 256, mode);
      expect(out.map((o) => ("error" in o ? codeName(o.error) : "ok"))).toEqual(stream.map((f) => f.expect.error ?? "ok"));
    }
  });
});

describe("encoders", () => {
  const buf = new Uint8Array(256);

  it("write at an offset and return the offset after the packet", () => {
    const end = encodeAck(buf, 10, PacketType.PUBACK, 0x0102);
    expect(end).toBe(14);
    expect(Array.from(buf.subarray(10, 14))).toEqual([0x40, 2, 1, 2]);
    expect(encodeEmpty(buf, 100, PacketType.PINGREQ)).toBe(102);
    expect(Array.from(buf.subarray(100, 102))).toEqual([0xc0, 0]);
  });

  it("PUBREL carries flags 0010, the other acks 0000", () => {
    for (const [t, first] of [[PacketType.PUBACK, 0x40], [PacketType.PUBREC, 0x50], [PacketType.PUBREL, 0x62], [PacketType.PUBCOMP, 0x70], [PacketType.UNSUBACK, 0xb0]]) {
      encodeAck(buf, 0, t, 1);
      expect(buf[0]).toBe(first);
    }
  });

  it("return BufferTooShort when the packet does not fit exactly, and write nothing past the end", () => {
    const cases: [string, (b: Uint8Array) => number][] = [
      ["connect", (b) => encodeConnect(b, 0, { clientId: "dev-1", keepalive: 30, cleanSession: true, username: "u", password: "p", will: { topic: "w/t", payload: "bye", qos: 1 } })],
      ["connack", (b) => encodeConnack(b, 0, false, 0)],
      ["publish", (b) => encodePublish(b, 0, "a/b/€", "payload", 1, false, false, 9)],
      ["publishBytes", (b) => encodePublishBytes(b, 0, Uint8Array.of(0x61), 0, 1, Uint8Array.of(1, 2, 3), 0, 3, 1, false, false, 9)],
      ["ack", (b) => encodeAck(b, 0, PacketType.PUBACK, 1)],
      ["subscribe", (b) => encodeSubscribe(b, 0, 1, "a/+/#", 1)],
      ["suback", (b) => encodeSuback(b, 0, 1, [0, 1, 0x80], 3)],
      ["unsubscribe", (b) => encodeUnsubscribe(b, 0, 1, "a/+")],
      ["empty", (b) => encodeEmpty(b, 0, PacketType.DISCONNECT)],
    ];
    expectExactFit(cases);
  });

  it("reject bad topics, filters, QoS and packet ids with typed errors", () => {
    expect(encodePublish(buf, 0, "", "x", 0, false, false, 0)).toBe(-ErrorCode.BadTopic);
    expect(encodePublish(buf, 0, "a/+", "x", 0, false, false, 0)).toBe(-ErrorCode.BadTopic);
    expect(encodePublish(buf, 0, "a/#", "x", 0, false, false, 0)).toBe(-ErrorCode.BadTopic);
    expect(encodePublish(buf, 0, "a\u0000b", "x", 0, false, false, 0)).toBe(-ErrorCode.BadTopic);
    expect(encodePublish(buf, 0, "a\ud800", "x", 0, false, false, 0)).toBe(-ErrorCode.BadTopic);
    expect(encodePublish(buf, 0, "a", "x", 3, false, false, 1)).toBe(-ErrorCode.BadArgument);
    expect(encodePublish(buf, 0, "a", "x", 1, false, false, 0)).toBe(-ErrorCode.BadArgument);
    expect(encodePublish(buf, 0, "a", "x", 1, false, false, 65536)).toBe(-ErrorCode.BadArgument);
    expect(encodePublish(buf, 0, "a", NaN, 0, false, false, 0)).toBe(-ErrorCode.BadArgument);
    expect(encodePublish(buf, 0, "a", Infinity, 0, false, false, 0)).toBe(-ErrorCode.BadArgument);
    expect(encodeSubscribe(buf, 0, 1, "a/#/b", 0)).toBe(-ErrorCode.BadTopic);
    expect(encodeSubscribe(buf, 0, 1, "a+", 0)).toBe(-ErrorCode.BadTopic);
    expect(encodeSubscribe(buf, 0, 1, "", 0)).toBe(-ErrorCode.BadTopic);
    expect(encodeSubscribe(buf, 0, 1, "a", 3)).toBe(-ErrorCode.BadArgument);
    expect(encodeUnsubscribe(buf, 0, 1, "#/a")).toBe(-ErrorCode.BadTopic);
    expect(encodePublishBytes(buf, 0, buf, 0, 0, buf, 0, 0, 0, false, false, 0)).toBe(-ErrorCode.BadTopic);
  });

  it("reject bad CONNECT options with typed errors", () => {
    const base = { clientId: "c", keepalive: 10, cleanSession: true };
    expect(encodeConnect(buf, 0, { ...base, clientId: "a\u0000" })).toBe(-ErrorCode.BadUtf8);
    expect(encodeConnect(buf, 0, { ...base, clientId: "\udc00" })).toBe(-ErrorCode.BadUtf8);
    expect(encodeConnect(buf, 0, { ...base, keepalive: -1 })).toBe(-ErrorCode.BadArgument);
    expect(encodeConnect(buf, 0, { ...base, keepalive: 65536 })).toBe(-ErrorCode.BadArgument);
    expect(encodeConnect(buf, 0, { ...base, keepalive: NaN })).toBe(-ErrorCode.BadArgument);
    expect(encodeConnect(buf, 0, { ...base, will: { topic: "a/#" } })).toBe(-ErrorCode.BadTopic);
    expect(encodeConnect(buf, 0, { ...base, will: { topic: "a", qos: 3 as 0 } })).toBe(-ErrorCode.BadArgument);
    expect(encodeConnect(buf, 0, { ...base, password: "p" })).toBe(-ErrorCode.BadArgument); // MQTT-3.1.2-22
    expect(encodeConnect(buf, 0, { ...base, username: "\ud800x" })).toBe(-ErrorCode.BadUtf8);
  });

  it("write a CONNECT without will/auth that mqtt-packet reads the same", () => {
    const end = encodeConnect(buf, 0, { clientId: "sensor-ü", keepalive: 120, cleanSession: false });
    expect(parseWithMqttPacket(buf.slice(0, end))).toEqual([{ cmd: "connect", clientId: "sensor-ü", keepalive: 120, clean: false }]);
  });
});

describe("PUBLISH payload forms", () => {
  const buf = new Uint8Array(512);
  const payloadOf = (end: number): number[] => {
    const [out] = decodeStream([buf.slice(0, end)], 512, "push");
    if (!("fields" in out) || out.fields.cmd !== "publish") throw new Error(`not a publish: ${JSON.stringify(out)}`);
    return out.fields.payload;
  };

  it("strings are UTF-8; lone surrogates become U+FFFD and U+0000 is allowed (payloads are not MQTT strings)", () => {
    for (const s of ["", "hello", "é€😀", "a\u0000b", "x\ud800y", "\udc00", "end\ud83d"]) {
      const end = encodePublish(buf, 0, "t", s, 0, false, false, 0);
      expect(end).toBeGreaterThan(0);
      expect(payloadOf(end), JSON.stringify(s)).toEqual(Array.from(Buffer.from(s, "utf8")));
    }
  });

  it("null/undefined payloads are empty", () => {
    expect(payloadOf(encodePublish(buf, 0, "t", null, 0, false, false, 0))).toEqual([]);
    expect(payloadOf(encodePublish(buf, 0, "t", undefined, 0, false, false, 0))).toEqual([]);
  });

  it("numbers are written as decimal text", () => {
    const end = encodePublish(buf, 0, "t", -21.5, 1, false, false, 4);
    expect(Buffer.from(payloadOf(end)).toString()).toBe("-21.5");
  });

  it("encodePublishBytes writes the same bytes as encodePublish", () => {
    const topic = Buffer.from("xx/feeds/temp"), payload = Buffer.from("12.5");
    const a = encodePublish(buf, 0, "xx/feeds/temp", "12.5", 1, true, true, 300);
    const first = buf.slice(0, a);
    const b = encodePublishBytes(buf, 0, topic, 0, topic.length, payload, 0, payload.length, 1, true, true, 300);
    expect(buf.slice(0, b)).toEqual(first);
  });
});

describe("numbers as payloads (writeDecimal / decimalLength)", () => {
  // The rule: integers (up to 2^53) exactly; other finite numbers with at most 6 fractional digits, rounded,
  // trailing zeros trimmed; |n| >= 9e9 with a fraction and non-finite numbers are refused (-1 / BadArgument).
  const text = (n: number): string | number => {
    const len = decimalLength(n);
    const b = new Uint8Array(40);
    const end = writeDecimal(b, 3, n);
    if (len < 0) return end;
    expect(end).toBe(3 + len);
    return Buffer.from(b.subarray(3, end)).toString("latin1");
  };
  const cases: [number, string | number][] = [
    [0, "0"], [-0, "0"], [7, "7"], [-7, "-7"], [10, "10"], [1234567890, "1234567890"],
    [Number.MAX_SAFE_INTEGER, "9007199254740991"], [-Number.MAX_SAFE_INTEGER, "-9007199254740991"],
    [0.5, "0.5"], [-0.5, "-0.5"], [21.25, "21.25"], [0.1 + 0.2, "0.3"], [1 / 3, "0.333333"], [2 / 3, "0.666667"],
    [0.000001, "0.000001"], [0.0000004, "0"], [-0.0000004, "0"], [0.0000005, "0.000001"], [1.9999999, "2"],
    [-1.9999999, "-2"], [123.456789, "123.456789"], [8999999999.5, "8999999999.5"],
    [9e9 + 0.5, -ErrorCode.BadArgument], [NaN, -ErrorCode.BadArgument], [Infinity, -ErrorCode.BadArgument],
    [-Infinity, -ErrorCode.BadArgument], [2 ** 53 + 2, -ErrorCode.BadArgument],
  ];
  for (const [n, want] of cases) it(`${n} -> ${want}`, () => expect(text(n)).toBe(want));
});

describe("readDecimal", () => {
  const read = (s: string): number => { const b = Buffer.from(s, "latin1"); return readDecimal(b, 0, b.length); };
  it("reads what writeDecimal writes, and plain JSON-style numbers", () => {
    for (const n of [0, 7, -7, 21.25, -0.5, 0.000001, 123.456789, 1234567890, Number.MAX_SAFE_INTEGER]) {
      const b = new Uint8Array(32);
      const end = writeDecimal(b, 0, n);
      expect(readDecimal(b, 0, end), String(n)).toBe(n);
    }
    expect(read(" 42 ")).toBe(42);
    expect(read("+3.5")).toBe(3.5);
    expect(read("1e3")).toBe(1000);
    expect(read("2.5E-1")).toBe(0.25);
    expect(read(".5")).toBe(0.5);
  });
  it("gives NaN for anything that is not a number", () => {
    for (const s of ["", " ", "-", "abc", "1a", "1e", "1e+", "1..2", "0x10", "--1", "1 2"]) expect(read(s), JSON.stringify(s)).toBeNaN();
  });
});

describe("PacketReader", () => {
  it("decodes every remaining-length boundary the same as mqtt-packet (1 to 4 length bytes)", () => {
    for (const remaining of [0, 127, 128, 16383, 16384, 2097151, 2097152]) {
      const plen = Math.max(0, remaining - 3);
      const f = { cmd: "publish" as const, topic: "t", payload: Array.from({ length: plen }, (_, i) => i & 255), qos: 0 as const, retain: false, dup: false };
      if (remaining < 3) continue;
      const a = ours(f), b = theirs(f);
      expect(a.length, String(remaining)).toBe(packetSize(remaining));
      expect(a[0] === b[0] && Buffer.compare(a, b) === 0, `bytes for remaining ${remaining}`).toBe(true);
      const out = decodeStream(chunk(a, [1, 2, 3, 4, 5, 100]), remaining + 16, "push");
      expect(out.length).toBe(1);
      expect("fields" in out[0] && out[0].fields.cmd === "publish" && out[0].fields.payload.length === plen).toBe(true);
    }
    expect([0, 127, 128, 16383, 16384, 2097151, 2097152, MAX_REMAINING_LENGTH].map(remainingLengthSize)).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it("accepts the largest remaining length (268435455) in its header and skips the body beyond rxBuffer", () => {
    const head = new Uint8Array(5);
    expect(writeHeader(head, 0, 0x30, MAX_REMAINING_LENGTH)).toBe(5);
    expect(Array.from(head)).toEqual([0x30, 0xff, 0xff, 0xff, 0x7f]);
    const r = new PushReader(32);
    expect(r.push(head, 0, 5)).toBe(ReadStatus.NeedMore);
    expect(r.length).toBe(MAX_REMAINING_LENGTH);
    expect(r.truncated).toBe(true);
  });

  it("skips a packet bigger than rxBuffer, reports it, and decodes the next one", () => {
    const big = ours({ cmd: "publish", topic: "big/topic", payload: new Array(1000).fill(7), qos: 1, retain: false, dup: false, messageId: 42 });
    const small = ours({ cmd: "puback", messageId: 42 });
    const data = Buffer.concat([big, small, big, small]);
    for (const mode of ["push", "pull"] as const) {
      for (const cuts of [[], [1, 2, 17, 500, 1010], Array.from({ length: data.length }, (_, i) => i)]) {
        const r = new PushReader(64), p = new ServerPacket();
        const seen: string[] = [];
        (mode === "push" ? pushChunks : pullChunks)(r, chunk(data, cuts), (status, pk, type) => {
          const o = outcomeOf(status, pk, type);
          if ("fields" in o) seen.push(o.fields.cmd);
          else {
            seen.push(codeName(o.error));
            expect(utf8.decode(pk.buf.subarray(pk.topicStart, pk.topicEnd))).toBe("big/topic");
            expect(pk.packetId).toBe(42);
            expect(pk.payloadEnd - pk.payloadStart).toBe(0);
          }
        }, p);
        expect(seen, `${mode} ${cuts.length} cuts`).toEqual(["PacketTooLarge", "puback", "PacketTooLarge", "puback"]);
      }
    }
  });

  it("a packet of exactly rxBuffer bytes is not truncated", () => {
    const pk = ours({ cmd: "publish", topic: "a", payload: [1, 2, 3], qos: 0, retain: false, dup: false });
    const remaining = pk.length - 2;
    const out = decodeStream([pk], remaining, "push");
    expect(out).toEqual([{ fields: { cmd: "publish", topic: "a", payload: [1, 2, 3], qos: 0, retain: false, dup: false } }]);
    expect(decodeStream([pk], remaining - 1, "push")).toEqual([{ error: -ErrorCode.PacketTooLarge, type: 3 }]);
  });

  it("an rxBuffer smaller than a 2-byte body gives PacketTooLarge, not fields read past the buffer", () => {
    for (const pk of [[0x20, 0x02, 0x00, 0x00], [0x40, 0x02, 0x00, 0x01], [0x62, 0x02, 0x00, 0x01], [0xb0, 0x02, 0x00, 0x01]]) {
      for (const capacity of [0, 1]) {
        const out = decodeStream([Uint8Array.from(pk)], capacity, "push");
        expect(out, `${Buffer.from(pk).toString("hex")} into ${capacity}`).toEqual([{ error: -ErrorCode.PacketTooLarge, type: pk[0] >> 4 }]);
      }
    }
  });

  it("reports a 5-byte remaining length as MalformedLength, in push and pull", () => {
    const bad = Uint8Array.of(0x30, 0x80, 0x80, 0x80, 0x80, 0x01);
    expect(decodeStream([bad], 64, "push")[0]).toEqual({ error: -ErrorCode.MalformedLength, type: 3 });
    expect(decodeStream([bad], 64, "pull")[0]).toEqual({ error: -ErrorCode.MalformedLength, type: 3 });
  });

  it("reset() drops a half-read packet", () => {
    const r = new PushReader(64), p = new ServerPacket();
    const pk = ours({ cmd: "puback", messageId: 9 });
    expect(r.push(pk, 0, 3)).toBe(ReadStatus.NeedMore);
    r.reset();
    expect(r.push(pk, 0, pk.length)).toBe(ReadStatus.Complete);
    expect(decodeAny(r, p)).toBe(0);
    expect(fromOurPacket(p)).toEqual({ cmd: "puback", messageId: 9 });
  });
});

describe("MQTTError", () => {
  it("has a distinct sentence for every ErrorCode, and adds the detail and reason code", () => {
    const sentences = new Set<string>();
    for (const [name, code] of Object.entries(ErrorCode)) {
      const bare = new MQTTError(code as ErrorCodeValue);
      expect(bare.message, name).toMatch(/^[a-z][^:]{5,}$/);
      expect(bare.message, name).not.toMatch(/undefined/);
      sentences.add(bare.message);
      const e = new MQTTError(code as ErrorCodeValue, "topic 'a/#' in PUBLISH", 5);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe("MQTTError");
      expect(e.code).toBe(code);
      expect(e.reasonCode).toBe(5);
      expect(e.message).toBe(`${bare.message}: topic 'a/#' in PUBLISH`);
    }
    expect(sentences.size).toBe(Object.keys(ErrorCode).length);
  });

  it("the messages for decode errors name the problem", () => {
    expect(new MQTTError(ErrorCode.MalformedLength).message).toMatch(/remaining length/);
    expect(new MQTTError(ErrorCode.BadUtf8).message).toMatch(/UTF-8/);
    expect(new MQTTError(ErrorCode.PacketTooLarge).message).toMatch(/rxBuffer/);
    expect(new MQTTError(ErrorCode.BufferTooShort).message).toMatch(/buffer/);
  });
});
