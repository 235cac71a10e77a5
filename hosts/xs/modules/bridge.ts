// Runs INSIDE XS, first in every bundle: takes xsnap's private host functions and hides them so bundled code
// sees a Moddable-like global object, installs `trace` and the XS string helpers, freezes the built-ins, routes
// host deliveries, and keeps the outbox through which host modules talk to the Node side (XSHost,
// sim/xs/host.ts) without allocating.
import { Delivery, Request, recordHeaderSize, trailerSize } from "../protocol.ts";
import hostConfig from "./host-config.ts";
import { freezeBuiltIns } from "./freeze.ts";

interface XsnapGlobals {
  issueCommand(request: ArrayBuffer): ArrayBuffer;
  gc(): void;
  performance: { now(): number };
  TextEncoder: new () => { encode(s: string): Uint8Array };
  TextDecoder: new () => { decode(b: ArrayBufferLike | ArrayBufferView): string };
}

/** Handles one delivery: `bytes[0..length)` is the payload (the view also holds the trailer). */
export type Handler = (id: number, bytes: Uint8Array, length: number) => void;

const g = globalThis as unknown as XsnapGlobals & Record<string, unknown>;
if (typeof g.issueCommand !== "function") throw new Error("hosts/xs bridge: not running inside xsnap-worker");

const issueCommand = g.issueCommand;
const collect = g.gc;
const clock = g.performance;
const encoder = new g.TextEncoder();
const decoder = new g.TextDecoder();
const handlers: (Handler | undefined)[] = [];

// xsnap extras a Moddable device does not have: code that needs them must fail here as it would on a board.
for (const name of ["issueCommand", "gc", "print", "performance", "setImmediate", "TextEncoder", "TextDecoder", "Base64", "currentMeterLimit", "resetMeter", "harden"])
  delete g[name];

// --- the outbox: records for the Node side, handed over at the end of each crank or when an answer is needed ---

/** Room for a full lwIP send buffer (2 x 1460) and the records around it. */
const outboxSize = 8192;
const outbox = new ArrayBuffer(outboxSize, { maxByteLength: outboxSize });
/** Length-tracking: follows the outbox's resizes. */
const out = new Uint8Array(outbox);
let used = 0;
let open = true;
let dead = false;

function reopen(): void {
  outbox.resize(outboxSize); // in place: the chunk keeps its capacity
  used = 0;
  open = true;
}

/** Exchanges the outbox for the Node side's answer to its last record (XS waits meanwhile). */
function exchange(): Uint8Array {
  if (!open) reopen();
  outbox.resize(used);
  const reply = issueCommand(outbox);
  reopen();
  return new Uint8Array(reply);
}

/**
 * Appends a record header and returns where its `length` payload bytes go in `out`. The caller fills them
 * before any other outbox call.
 */
export function begin(op: number, id: number, length: number): number {
  if (!open) reopen();
  if (used + recordHeaderSize + length > outboxSize) {
    exchange();
    if (recordHeaderSize + length > outboxSize) throw new RangeError(`hosts/xs: a ${length}-byte record does not fit the outbox`);
  }
  const at = used;
  out[at] = op;
  out[at + 1] = id & 0xff;
  out[at + 2] = (id >>> 8) & 0xff;
  out[at + 3] = (id >>> 16) & 0xff;
  out[at + 4] = (id >>> 24) & 0xff;
  out[at + 5] = length & 0xff;
  out[at + 6] = (length >>> 8) & 0xff;
  out[at + 7] = (length >>> 16) & 0xff;
  out[at + 8] = (length >>> 24) & 0xff;
  used = at + recordHeaderSize + length;
  return at + recordHeaderSize;
}

/** The outbox's bytes, for filling a record's payload. */
export { out as outboxBytes };

/** Queues a record with no payload. */
export function send(op: number, id: number): void {
  begin(op, id, 0);
}

/** Queues a record carrying UTF-8 text; one too big for the outbox goes on its own, after what is queued. */
export function sendText(op: number, id: number, text: string): void {
  const bytes = encoder.encode(text);
  if (recordHeaderSize + bytes.length <= outboxSize) out.set(bytes, begin(op, id, bytes.length));
  else alone(op, id, bytes);
}

/** Sends a text record now and returns the Node side's answer. */
export function requestText(op: number, id: number, text: string): Uint8Array {
  const bytes = encoder.encode(text);
  if (recordHeaderSize + bytes.length > outboxSize) return alone(op, id, bytes);
  out.set(bytes, begin(op, id, bytes.length));
  return exchange();
}

/** A record bigger than the outbox (a large call result): in a buffer of its own, after what is queued. */
function alone(op: number, id: number, bytes: Uint8Array): Uint8Array {
  if (open && used > 0) exchange();
  const record = new Uint8Array(recordHeaderSize + bytes.length);
  record[0] = op;
  for (let i = 0; i < 4; i++) {
    record[1 + i] = (id >>> (8 * i)) & 0xff;
    record[5 + i] = (bytes.length >>> (8 * i)) & 0xff;
  }
  record.set(bytes, recordHeaderSize);
  return new Uint8Array(issueCommand(record.buffer));
}

// The crank's result: xsnap reads `result` after the crank's promise jobs ran, so their records go too.
const crankReply = {
  get result(): ArrayBuffer | undefined {
    if (!open || used === 0) return undefined;
    outbox.resize(used);
    open = false;
    return outbox;
  },
};

/** Registers the handler of one kind of host delivery. */
export function onDelivery(op: number, handler: Handler): void {
  handlers[op] = handler;
}

export function utf8(text: string): Uint8Array { return encoder.encode(text); }
export function fromUtf8(bytes: ArrayBufferLike | ArrayBufferView): string { return decoder.decode(bytes); }
/** Milliseconds from an arbitrary origin, like Moddable's tick counter. */
export function now(): number { return clock.now(); }

let lastId = 0;
export function nextId(): number { return ++lastId; }

/**
 * An exception escaped a host callback (`kind`: "timer", "socket", ...). On a device XS aborts: the Node side
 * is told first (with the stack), then the exception unwinds the crank and nothing runs in this machine again.
 */
export function abort(kind: string, error: unknown): never {
  const e = error as { stack?: string; message?: string } | undefined;
  const text = e && typeof e === "object" ? (e.stack || `${(e as Error).name}: ${e.message}`) : String(error);
  dead = true;
  requestText(Request.Abort, 0, `${kind}\n${text}`);
  throw error;
}

onDelivery(Delivery.Collect, () => collect());
onDelivery(Delivery.Flush, () => { /* the crank hands over the outbox */ });

g.handleCommand = (buffer: ArrayBuffer): object => {
  if (dead) throw new Error("hosts/xs: this machine aborted");
  const bytes = new Uint8Array(buffer); // the one allocation per delivery, besides xsnap's buffer
  const length = bytes.length - trailerSize;
  const op = bytes[length];
  const handler = handlers[op];
  if (!handler) throw new Error(`hosts/xs bridge: no handler for delivery ${op}`);
  handler((bytes[length + 1] | (bytes[length + 2] << 8) | (bytes[length + 3] << 16) | (bytes[length + 4] << 24)) >>> 0, bytes, length);
  return crankReply;
};

// Moddable's trace concatenates its arguments without separators or a newline. Sent at once, so what was
// traced survives an abort later in the crank.
Object.defineProperty(globalThis, "trace", {
  value: function trace(...values: unknown[]): void {
    let text = "";
    for (const v of values) text += String(v);
    requestText(Request.Trace, 0, text);
  },
  writable: true, configurable: true, enumerable: false,
});
Object.defineProperty(ArrayBuffer, "fromString", {
  value: function fromString(text: string): ArrayBuffer { return encoder.encode(String(text)).buffer as ArrayBuffer; },
  writable: true, configurable: true, enumerable: false,
});
Object.defineProperty(String, "fromArrayBuffer", {
  value: function fromArrayBuffer(buffer: ArrayBufferLike): string { return decoder.decode(buffer); },
  writable: true, configurable: true, enumerable: false,
});

// Last: the modules bundled after this one load into a machine whose built-ins are frozen, as on a board.
if (hostConfig.freeze) freezeBuiltIns();
