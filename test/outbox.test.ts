// The outbox: entries keep their order and bytes through compaction, refuse what does not fit, and leave
// through copyFirst into a packet buffer.
import { describe, expect, it } from "vitest";
import { Outbox, EntryKind } from "../src/mqtt/outbox";

function drain(box: Outbox): number[][] {
  const out: number[][] = [];
  const dst = new Uint8Array(64);
  while (box.count > 0) {
    const n = box.copyFirst(dst);
    expect(n).toBe(box.firstLength);
    out.push(Array.from(dst.subarray(0, n)));
    box.shift();
  }
  return out;
}

describe("Outbox", () => {
  it("keeps order, kinds and bytes across compaction", () => {
    const box = new Outbox(24);
    expect(box.push(new Uint8Array([1, 2, 3, 4, 5]), EntryKind.Plain)).toBe(true); // 8 bytes
    expect(box.push(new Uint8Array([6, 7, 8, 9, 10]), EntryKind.NeedsSlot)).toBe(true); // 16
    expect(box.fits(6)).toBe(false);
    box.shift(); // frees the first 8 at the front; the next push must compact
    expect(box.push(new Uint8Array([2, 3, 4, 5]), EntryKind.Plain)).toBe(true);
    expect(box.firstKind).toBe(EntryKind.NeedsSlot);
    expect(drain(box)).toEqual([[6, 7, 8, 9, 10], [2, 3, 4, 5]]);
    expect(box.used).toBe(0);
  });

  it("takes a length-tracking view whole and refuses what does not fit", () => {
    const box = new Outbox(10);
    expect(box.push(new Uint8Array(8), EntryKind.Plain)).toBe(false);
    const ab = new ArrayBuffer(16, { maxByteLength: 16 });
    const view = new Uint8Array(ab).fill(9);
    ab.resize(7);
    expect(box.push(view, EntryKind.Plain)).toBe(true);
    expect(box.used).toBe(10);
    expect(drain(box)).toEqual([[9, 9, 9, 9, 9, 9, 9]]);
  });
});
