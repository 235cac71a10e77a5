// The outbox as a region of a shared arena: entries keep their order and bytes through compaction, and
// nothing outside its region is touched.
import { describe, expect, it } from "vitest";
import { Outbox, EntryKind } from "../src/mqtt/outbox";

function drain(box: Outbox): number[][] {
  const out: number[][] = [];
  while (box.count > 0) {
    out.push(Array.from(box.bytes.subarray(box.firstStart, box.firstStart + box.firstLength)));
    box.shift();
  }
  return out;
}

describe("Outbox in an arena region", () => {
  it("keeps order and bytes across compaction, from the same arena and from another buffer", () => {
    const arena = new Uint8Array(64).fill(0xee);
    const box = new Outbox(24, arena, 20); // region [20, 44)
    arena.set([1, 2, 3, 4, 5], 0); // a "tx" area at the arena's start
    expect(box.push(arena, 0, 5, EntryKind.Plain)).toBe(true); // 8 bytes
    expect(box.push(new Uint8Array([6, 7, 8, 9, 10]), 0, 5, EntryKind.NeedsSlot)).toBe(true); // 16
    expect(box.fits(6)).toBe(false);
    box.shift(); // frees the first 8 at the front; the next push must compact
    expect(box.push(arena.subarray(1), 0, 4, EntryKind.Plain)).toBe(true); // [2,3,4,5]
    expect(box.firstKind).toBe(EntryKind.NeedsSlot);
    expect(drain(box)).toEqual([[6, 7, 8, 9, 10], [2, 3, 4, 5]]);
    expect(Array.from(arena.subarray(5, 20)).every((b) => b === 0xee)).toBe(true);
    expect(Array.from(arena.subarray(44)).every((b) => b === 0xee)).toBe(true);
  });

  it("refuses what does not fit and refuses a region outside its buffer", () => {
    const box = new Outbox(10);
    expect(box.push(new Uint8Array(8), 0, 8, EntryKind.Plain)).toBe(false);
    expect(box.push(new Uint8Array(7), 0, 7, EntryKind.Plain)).toBe(true);
    expect(box.used).toBe(10);
    expect(() => new Outbox(10, new Uint8Array(12), 5)).toThrow(RangeError);
  });
});
