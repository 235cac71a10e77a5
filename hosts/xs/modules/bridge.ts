// Runs INSIDE XS, first in every bundle: takes xsnap's private host functions, hides them so bundled code
// sees a Moddable-like global object, installs `trace` and the XS string helpers, and routes host deliveries.
import { Delivery, Request, frame, headerSize, idOf, opOf } from "../protocol.ts";

interface XsnapGlobals {
  issueCommand(request: ArrayBuffer): ArrayBuffer;
  gc(): void;
  performance: { now(): number };
  TextEncoder: new () => { encode(s: string): Uint8Array };
  TextDecoder: new () => { decode(b: ArrayBufferLike | ArrayBufferView): string };
}

type Handler = (id: number, bytes: Uint8Array) => void;

const g = globalThis as unknown as XsnapGlobals & Record<string, unknown>;
if (typeof g.issueCommand !== "function") throw new Error("hosts/xs bridge: not running inside xsnap-worker");

const issueCommand = g.issueCommand;
const collect = g.gc;
const clock = g.performance;
const encoder = new g.TextEncoder();
const decoder = new g.TextDecoder();
const handlers: (Handler | undefined)[] = [];

// xsnap extras a Moddable device does not have: code that needs them must fail here as it would on a board.
for (const name of ["issueCommand", "gc", "print", "performance", "setImmediate", "TextEncoder", "TextDecoder", "Base64", "currentMeterLimit", "resetMeter"])
  delete g[name];

/** Sends a request to the Node runner and returns its answer (XS blocks until it arrives). */
export function request(op: number, id: number, payload?: Uint8Array): Uint8Array {
  const bytes = frame(op, id, payload);
  return new Uint8Array(issueCommand(bytes.buffer as ArrayBuffer));
}

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

function fault(error: unknown): void {
  const e = error as { stack?: string; message?: string };
  request(Request.Fault, 0, utf8(e && e.stack ? e.stack : String(error)));
}

/** Runs a device callback the way Moddable's host does: an exception is reported, not fatal to the loop. */
export function guarded(run: () => void): void {
  try { run(); } catch (e) { fault(e); }
}

onDelivery(Delivery.Collect, () => collect());

g.handleCommand = (buffer: ArrayBuffer): void => {
  const bytes = new Uint8Array(buffer);
  const handler = handlers[opOf(bytes)];
  if (!handler) throw new Error(`hosts/xs bridge: no handler for delivery ${opOf(bytes)}`);
  handler(idOf(bytes), bytes.subarray(headerSize));
};

// Moddable's trace concatenates its arguments without separators or a newline.
Object.defineProperty(globalThis, "trace", {
  value: function trace(...values: unknown[]): void {
    let text = "";
    for (const v of values) text += String(v);
    request(Request.Trace, 0, utf8(text));
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
