// Topic matcher and topic/filter validity: MQTT 3.1.1 section 4.7 examples, and a property test of
// topicMatches against a reference written here from the spec's rules (split on "/", level by level).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { filterLength, topicMatches, topicNameLength } from "../src/mqtt/topic.ts";

const enc = new TextEncoder();

/** topicMatches on strings, with both placed at odd offsets inside larger buffers full of other bytes. */
function matches(filter: string, topic: string): boolean {
  const f = enc.encode(filter), t = enc.encode(topic);
  const fb = new Uint8Array(f.length + 7).fill(0x23), tb = new Uint8Array(t.length + 5).fill(0x2f); // "#" and "/" around
  fb.set(f, 3);
  tb.set(t, 2);
  return topicMatches(fb, 3, 3 + f.length, tb, 2, 2 + t.length);
}

/** The spec's rules, written independently: "+" one level, "#" the rest incl. the parent, "$" topics hidden from leading wildcards. */
function reference(filter: string, topic: string): boolean {
  if (filter.startsWith("$share/")) filter = filter.slice(filter.indexOf("/", 7) + 1);
  const f = filter.split("/"), t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

describe("MQTT 3.1.1 section 4.7 examples", () => {
  const cases: [string, string, boolean][] = [
    ["sport/tennis/player1/#", "sport/tennis/player1", true],
    ["sport/tennis/player1/#", "sport/tennis/player1/ranking", true],
    ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true],
    ["sport/tennis/player1/#", "sport/tennis/player2", false],
    ["sport/#", "sport", true],
    ["#", "sport/tennis", true],
    ["#", "/", true],
    ["sport/tennis/+", "sport/tennis/player1", true],
    ["sport/tennis/+", "sport/tennis/player2", true],
    ["sport/tennis/+", "sport/tennis/player1/ranking", false],
    ["sport/+", "sport", false],
    ["sport/+", "sport/", true],
    ["+/+", "/finance", true],
    ["/+", "/finance", true],
    ["+", "/finance", false],
    ["+/tennis/#", "sport/tennis/player1", true],
    ["sport/+/player1", "sport/tennis/player1", true],
    ["#", "$SYS/x", false],
    ["#", "$SYS", false],
    ["+/monitor/Clients", "$SYS/monitor/Clients", false],
    ["$SYS/#", "$SYS/monitor/Clients", true],
    ["$SYS/#", "$SYS", true],
    ["$SYS/monitor/+", "$SYS/monitor/Clients", true],
    ["ACCOUNTS", "Accounts", false],
    ["Accounts payable", "Accounts payable", true],
    ["/finance", "finance", false],
    ["finance", "/finance", false],
    ["a/b", "a/bc", false],
    ["a/bc", "a/b", false],
    ["a//", "a/", false],
    ["a/#", "a/", true],
    ["+/#", "a", true],
    ["a/+/#", "a", false],
    ["é/+/😀", "é/€/😀", true],
    // shared subscriptions are matched on the filter after "$share/{group}/"
    ["$share/g/sport/#", "sport/tennis", true],
    ["$share/g/+", "sport", true],
    ["$share/g/#", "$SYS/x", false],
    ["$share/g/a", "$share/g/a", false],
  ];
  for (const [f, t, want] of cases) {
    it(`"${f}" ${want ? "matches" : "does not match"} "${t}"`, () => {
      expect(filterLength(f)).toBeGreaterThan(0);
      expect(matches(f, t)).toBe(want);
      expect(reference(f, t)).toBe(want); // the reference agrees with the spec too
    });
  }
});

describe("filterLength and topicNameLength", () => {
  it("accept valid filters with their UTF-8 length", () => {
    for (const f of ["#", "+", "+/+", "/", "sport/tennis/+", "sport/+/player1", "+/tennis/#", "a//b", "$SYS/#", "é/+", "😀/#", "$share/g/a/#", "$share/g/+"])
      expect(filterLength(f), f).toBe(enc.encode(f).length);
  });

  it("reject invalid filters", () => {
    for (const f of ["", "sport+", "+sport", "sport/tennis#", "sport/tennis/#/ranking", "#/", "##", "a/++", "a\u0000b", "a\ud800", "\udc00",
      "$share/", "$share//a", "$share/g/", "$share/g", "$share/g+/a", "$share/g#/a"])
      expect(filterLength(f), JSON.stringify(f)).toBe(-1);
  });

  it("accept topic names and reject empty ones, wildcards, U+0000 and lone surrogates", () => {
    for (const t of ["a", "/", "a/b", "é", "😀/x", "$SYS/x", " ", "Accounts payable"]) expect(topicNameLength(t), t).toBe(enc.encode(t).length);
    for (const t of ["", "a/+", "a/#", "+", "#", "a\u0000", "\ud83d"]) expect(topicNameLength(t), JSON.stringify(t)).toBe(-1);
  });

  it("limit both to 65535 UTF-8 bytes", () => {
    expect(topicNameLength("a".repeat(65535))).toBe(65535);
    expect(topicNameLength("a".repeat(65536))).toBe(-1);
    expect(topicNameLength("é".repeat(32768))).toBe(-1); // 32768 characters, 65536 bytes
    expect(filterLength("a/".repeat(32767) + "#")).toBe(65535);
    expect(filterLength("€".repeat(21846))).toBe(-1); // 65538 bytes
  });
});

describe("topicMatches against the reference", () => {
  // A small alphabet so that matches are frequent; "$x" levels exercise the $-topic rule.
  const level = fc.constantFrom("a", "b", "", "$x", "é", "😀");
  const topic = fc.array(level, { minLength: 1, maxLength: 4 }).map((ls) => ls.join("/")).filter((t) => topicNameLength(t) > 0);
  const filter = fc
    .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 4 }), fc.boolean(), fc.boolean())
    .map(([ls, hash, shared]) => (shared ? "$share/g/" : "") + [...ls, ...(hash ? ["#"] : [])].join("/"))
    .filter((f) => filterLength(f) > 0);

  it("agrees on every valid filter and topic", () => {
    let hits = 0;
    fc.assert(fc.property(filter, topic, (f, t) => {
      const want = reference(f, t);
      if (want) hits++;
      expect(matches(f, t)).toBe(want);
    }), { numRuns: 3000 });
    expect(hits).toBeGreaterThan(100); // the alphabet really makes matches happen
  });

  it("a topic name used as a filter matches exactly itself", () => {
    fc.assert(fc.property(topic, topic, (a, b) => { expect(matches(a, b)).toBe(a === b); }), { numRuns: 1000 });
  });
});
