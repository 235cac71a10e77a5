// XS globals under Node: `trace` (routed to the board whose code runs, else stdout) and the XS string/buffer helpers.
import { runningBoard } from "./board.ts";

const g = globalThis as Record<string, unknown>;

if (typeof g.trace !== "function") {
  g.trace = (...values: unknown[]) => {
    const text = values.map((v) => (typeof v === "string" ? v : String(v))).join("");
    const board = runningBoard();
    if (board) board.traceSink(text);
    else process.stdout.write(text);
  };
}

const AB = ArrayBuffer as unknown as { fromString?: (s: string) => ArrayBuffer };
if (!AB.fromString) {
  AB.fromString = (s: string) => {
    const bytes = new TextEncoder().encode(s);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  };
}
const S = String as unknown as { fromArrayBuffer?: (b: ArrayBufferLike) => string };
if (!S.fromArrayBuffer) {
  S.fromArrayBuffer = (b: ArrayBufferLike) => new TextDecoder().decode(new Uint8Array(b));
}
