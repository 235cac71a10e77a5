// Strings turned into bytes once: Topic handles, the string caches behind publish and Message.topicIs/textIs,
// and the byte comparison that replaced walking the string (which allocates in XS).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { StringCache, Topic, sameBytes } from "../src/mqtt/topic-bytes.ts";
import { Message } from "../src/mqtt/message.ts";
import { ErrorCode, MQTTError } from "../src/mqtt/errors.ts";

const enc = new TextEncoder();

/** A Message whose topic and payload are the UTF-8 of `topic` and `text`. */
function message(topic: string, text: string): Message {
  const t = enc.encode(topic), p = enc.encode(text);
  const m = new Message();
  m.buf = m.topicBuf = new Uint8Array(3 + t.length + p.length).fill(0x2f);
  m.buf.set(t, 1);
  m.topicStart = 1;
  m.topicEnd = 1 + t.length;
  m.buf.set(p, m.topicEnd + 1);
  m.payloadStart = m.topicEnd + 1;
  m.payloadEnd = m.payloadStart + p.length;
  return m;
}

describe("Topic", () => {
  it("holds the UTF-8 of a valid topic name", () => {
    const t = new Topic("home/€/temp");
    expect(Array.from(t.bytes)).toEqual(Array.from(enc.encode("home/€/temp")));
    expect(t.name).toBe("home/€/temp");
  });

  it("refuses what is not a topic name with BadTopic", () => {
    for (const bad of ["", "a/+", "a/#", "a\u0000b", "a\ud800"]) {
      expect(() => new Topic(bad), JSON.stringify(bad)).toThrow(MQTTError);
      try { new Topic(bad); } catch (e) { expect((e as MQTTError).code).toBe(ErrorCode.BadTopic); }
    }
  });
});

describe("StringCache", () => {
  it("encodes a string once and hands back the same bytes while it stays among the last entries", () => {
    const cache = new StringCache(2, false);
    const a = cache.bytes("a/b"), b = cache.bytes("c");
    expect(cache.bytes("a/b")).toBe(a); // same object: nothing encoded again
    expect(cache.bytes("c")).toBe(b);
    cache.bytes("d"); // evicts the oldest ("a/b")
    const again = cache.bytes("a/b");
    expect(again).not.toBe(a);
    expect(Array.from(again)).toEqual(Array.from(a));
  });

  it("a topic cache checks each new string and refuses a bad one every time", () => {
    const cache = new StringCache(4, true);
    expect(() => cache.bytes("a/+")).toThrow(/not a topic name/);
    expect(() => cache.bytes("a/+")).toThrow(/not a topic name/); // not cached
    expect(Array.from(cache.bytes("x/y"))).toEqual(Array.from(enc.encode("x/y")));
    expect(Array.from(new StringCache(4, false).bytes("a/+"))).toEqual(Array.from(enc.encode("a/+"))); // a text may hold '+'
  });

  it("writes lone surrogates of a text as U+FFFD, like TextEncoder", () => {
    expect(Array.from(new StringCache(1, false).bytes("a\ud800"))).toEqual(Array.from(enc.encode("a\ud800")));
  });
});

describe("Message.topicIs and textIs", () => {
  const text = fc.string({ unit: "grapheme", maxLength: 12 });
  it("are true exactly for the same text, by string or by Topic", () => {
    fc.assert(fc.property(text, text, text, (s, t, u) => {
      const m = message(t || "t", u);
      expect(m.topicIs(s || "s")).toBe((s || "s") === (t || "t"));
      expect(m.topicIs(t || "t")).toBe(true);
      expect(m.textIs(s)).toBe(s === u);
      expect(m.textIs(u)).toBe(true);
      if (!/[+#\u0000]/.test(t || "t")) expect(m.topicIs(new Topic(t || "t"))).toBe(true);
    }), { numRuns: 1000 });
  });

  it("respect the ends of the topic and the payload", () => {
    const m = message("ab", "ON");
    expect(m.topicIs("a")).toBe(false);
    expect(m.topicIs("abc")).toBe(false);
    expect(m.textIs("O")).toBe(false);
    expect(m.textIs("ON!")).toBe(false);
    expect(sameBytes(enc.encode("xab"), 1, 3, m.buf, m.topicStart, m.topicEnd)).toBe(true);
  });
});
