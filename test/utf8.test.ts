// The UTF-8 reader/writer against the platform's TextEncoder/TextDecoder: lengths and bytes of well-formed
// strings, MQTT's refusals (lone surrogates, U+0000), validation of arbitrary bytes, comparison and decoding.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readUtf8, utf8ByteLength, utf8Length, validUtf8, writeUtf8 } from "../src/mqtt/utf8.ts";

const enc = new TextEncoder();
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Reference for validUtf8: what a strict decoder accepts, minus U+0000 (MQTT-1.5.3-2). */
function referenceValid(b: Uint8Array): boolean {
  try { return !fatal.decode(b).includes("\u0000"); } catch { return false; }
}

// Strings from every UTF-8 length class; `wellFormed` has no lone surrogates and no U+0000.
const unit = fc.oneof(
  fc.integer({ min: 1, max: 0x7f }), fc.integer({ min: 0x80, max: 0x7ff }),
  fc.integer({ min: 0x800, max: 0xffff }).filter((c) => c < 0xd800 || c > 0xdfff), fc.integer({ min: 0x10000, max: 0x10ffff }),
).map((c) => String.fromCodePoint(c));
const wellFormed = fc.string({ unit, maxLength: 40 });
const anyJs = fc.string({ unit: fc.oneof(unit, fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), fc.constant("\u0000")), maxLength: 20 });

describe("utf8Length and writeUtf8", () => {
  it("give TextEncoder's length and bytes for well-formed strings, at any offset", () => {
    fc.assert(fc.property(wellFormed, fc.integer({ min: 0, max: 9 }), (s, at) => {
      const want = enc.encode(s);
      expect(utf8Length(s)).toBe(want.length);
      const buf = new Uint8Array(at + want.length + 3).fill(0xee);
      expect(writeUtf8(buf, at, s)).toBe(at + want.length);
      expect(Buffer.from(buf.subarray(at, at + want.length)).equals(Buffer.from(want))).toBe(true);
      expect(Array.from(buf.subarray(0, at)).every((x) => x === 0xee) && Array.from(buf.subarray(at + want.length)).every((x) => x === 0xee)).toBe(true);
    }), { numRuns: 1000 });
  });

  it("refuse (-1) exactly the strings with a lone surrogate or U+0000", () => {
    fc.assert(fc.property(anyJs, (s) => {
      const bad = !s.isWellFormed() || s.includes("\u0000");
      expect(utf8Length(s)).toBe(bad ? -1 : enc.encode(s).length);
    }), { numRuns: 2000 });
  });

  it("handle the boundaries of each length class", () => {
    for (const [cp, n] of [[0x01, 1], [0x7f, 1], [0x80, 2], [0x7ff, 2], [0x800, 3], [0xd7ff, 3], [0xe000, 3], [0xfffd, 3], [0xffff, 3], [0x10000, 4], [0x10ffff, 4]]) {
      const s = String.fromCodePoint(cp);
      expect(utf8Length(s), cp.toString(16)).toBe(n);
      const b = new Uint8Array(4);
      writeUtf8(b, 0, s);
      expect(Array.from(b.subarray(0, n))).toEqual(Array.from(enc.encode(s)));
    }
    for (const s of ["\u0000", "a\u0000", "\ud800", "\udbff", "\udc00", "\udfff", "\udc00\ud800", "x\ud800y", "\ud83d"]) expect(utf8Length(s), JSON.stringify(s)).toBe(-1);
  });
});

describe("validUtf8", () => {
  it("agrees with a strict TextDecoder (and no U+0000) on random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), (b) => { expect(validUtf8(b, 0, b.length)).toBe(referenceValid(b)); }), { numRuns: 3000 });
  });

  it("agrees on mutated and cut valid UTF-8, where the interesting cases are", () => {
    const mutated = fc.tuple(wellFormed, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }), fc.nat()).map(([s, edits, cut]) => {
      const b = enc.encode(s);
      for (const [i, v] of edits) if (b.length) b[i % b.length] = v;
      return b.subarray(0, b.length ? cut % (b.length + 1) : 0);
    });
    fc.assert(fc.property(mutated, (b) => { expect(validUtf8(b, 0, b.length)).toBe(referenceValid(b)); }), { numRuns: 3000 });
  });

  it("checks only buf[start, end)", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 30 }), fc.nat(), fc.nat(), (b, x, y) => {
      const s = b.length ? x % (b.length + 1) : 0, e = s + (b.length - s ? y % (b.length - s + 1) : 0);
      expect(validUtf8(b, s, e)).toBe(referenceValid(b.subarray(s, e)));
    }), { numRuns: 2000 });
  });

  it("rejects overlongs, surrogates, code points past U+10FFFF, stray and missing continuation bytes", () => {
    const bad = [[0x00], [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xf0, 0x80, 0x80, 0x80],
      [0xf0, 0x8f, 0xbf, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xff],
      [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3, 0x41], [0xe2, 0x28, 0xa1], [0x61, 0x00, 0x62]];
    for (const b of bad) expect(validUtf8(Uint8Array.from(b), 0, b.length), Buffer.from(b).toString("hex")).toBe(false);
    const good = [[], [0x7f], [0xc2, 0x80], [0xdf, 0xbf], [0xe0, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xee, 0x80, 0x80], [0xef, 0xbf, 0xbf],
      [0xf0, 0x90, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xef, 0xbb, 0xbf]];
    for (const b of good) expect(validUtf8(Uint8Array.from(b), 0, b.length), Buffer.from(b).toString("hex")).toBe(true);
  });
});

describe("readUtf8", () => {
  it("readUtf8 gives back the string that was written", () => {
    fc.assert(fc.property(wellFormed, (s) => {
      const b = new Uint8Array(4 + utf8Length(s) + 4);
      const end = writeUtf8(b, 4, s);
      expect(readUtf8(b, 4, end)).toBe(s);
    }), { numRuns: 1000 });
  });

});

describe("payload strings (utf8ByteLength + writeUtf8)", () => {
  it("write any string exactly as TextEncoder does, lone surrogates as U+FFFD and U+0000 kept", () => {
    const enc = new TextEncoder();
    for (const s of ["", "a\u0000b", "\ud800", "x\udc00y", "\ud83d\ude00", "\ud83d", "é€😀\ud800z", "end\udbff"]) {
      const expected = enc.encode(s);
      expect(utf8ByteLength(s), JSON.stringify(s)).toBe(expected.length);
      const buf = new Uint8Array(expected.length + 4);
      expect(writeUtf8(buf, 2, s)).toBe(2 + expected.length);
      expect(Array.from(buf.subarray(2, 2 + expected.length)), JSON.stringify(s)).toEqual(Array.from(expected));
    }
  });
});
