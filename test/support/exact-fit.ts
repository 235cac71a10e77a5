// Each encoder writes exactly the size it reports: it fits a buffer of that size, refuses one byte less with
// BufferTooShort, and writes nothing past its buffer.
import { expect } from "vitest";
import { ErrorCode } from "../../src/mqtt/errors.ts";

export type Encoder = (b: Uint8Array) => number;

export function expectExactFit(cases: Array<[string, Encoder]>): void {
  for (const [name, enc] of cases) {
    const size = enc(new Uint8Array(1000));
    expect(size, name).toBeGreaterThan(0);
    expect(enc(new Uint8Array(size)), name).toBe(size);
    const big = new Uint8Array(size + 8).fill(0xaa);
    expect(enc(big.subarray(0, size - 1)), name).toBe(-ErrorCode.BufferTooShort);
    expect(Array.from(big.subarray(size - 1)).every((x) => x === 0xaa), `${name} wrote past its buffer`).toBe(true);
  }
}
