// Message layouts between the XS-side host modules and the Node side (XSHost, sim/xs/host.ts), shared by both sides.
// XS -> Node: records [op u8][id u32][length u32][payload], appended to one reused outbox that XS hands over
// as a crank's result or through `issueCommand` when it needs an answer (so requests allocate nothing in XS).
// Node -> XS: one delivery per crank, [payload][op u8][id u32]: the trailer keeps the payload at offset 0 of
// the one view XS makes of it.

/** XS -> Node records. */
export const Request = {
  Trace: 1, // payload: UTF-8 text
  TimerSet: 2, // payload: delay ms u32, generation u32
  TimerClear: 3,
  Connect: 4, // payload: UTF-8 JSON ConnectRequest
  Write: 5, // payload: the bytes
  Close: 6,
  Consumed: 7, // the oldest delivered data chunk of a connection was read
  CallResult: 8, // payload: UTF-8 JSON of the value
  CallError: 9, // payload: UTF-8 text
  Abort: 10, // payload: UTF-8 "kind\nstack": an exception escaped a host callback; the machine is dead
  Remote: 11, // payload: UTF-8 JSON RemoteRequest; answered with UTF-8 JSON RemoteReply
} as const;

/** Node -> XS deliveries. */
export const Delivery = {
  TimerFire: 1, // payload: generation u32
  Connected: 2, // payload: UTF-8 "address:port" of the peer, or "" when the connect was refused (lin)
  Data: 3, // payload: the bytes
  Sent: 4, // payload: bytes acknowledged u32
  Disconnected: 5, // the peer closed
  Error: 6, // the connection failed
  Call: 7, // payload: UTF-8 JSON { name, args }
  Collect: 8, // force a garbage collection
  Flush: 9, // nothing: the crank returns the outbox (after an `evaluate`)
  Event: 10, // payload: UTF-8 JSON array of callback arguments for listener `id`
  DataSent: 11, // payload: the bytes, then bytes acknowledged u32 (an ACK riding on the peer's data, as in TCP)
} as const;

export interface ConnectRequest {
  /** "socket": Moddable's legacy socket; "tcp": ECMA-419 embedded:io/socket/tcp. */
  kind: "socket" | "tcp";
  host?: string;
  address?: string;
  port: number;
  nodelay?: boolean;
}

export interface RemoteRequest {
  /** Module specifier, e.g. "wifi". */
  module: string;
  /** "static" calls module[name], "get"/"set" a static property, "new" makes instance `instance`, "call" calls its method. */
  op: "static" | "get" | "set" | "new" | "call" | "free";
  name?: string;
  instance?: number;
  args?: unknown[];
}

export type RemoteReply = { value: unknown } | { error: string; name: string };

/** Records: op, id, length. */
export const recordHeaderSize = 9;
/** Deliveries: op, id after the payload. */
export const trailerSize = 5;

/** Builds a delivery: `payload` then the trailer. */
export function frame(op: number, id: number, payload?: Uint8Array): Uint8Array {
  const n = payload ? payload.length : 0;
  const bytes = new Uint8Array(n + trailerSize);
  if (payload) bytes.set(payload, 0);
  bytes[n] = op;
  bytes[n + 1] = id & 0xff;
  bytes[n + 2] = (id >>> 8) & 0xff;
  bytes[n + 3] = (id >>> 16) & 0xff;
  bytes[n + 4] = (id >>> 24) & 0xff;
  return bytes;
}

export function u32(value: number): Uint8Array {
  return new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]);
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/** Calls `each(op, id, payloadStart, payloadEnd)` for every record of an outbox. */
export function forEachRecord(bytes: Uint8Array, each: (op: number, id: number, start: number, end: number) => void): void {
  let at = 0;
  while (at + recordHeaderSize <= bytes.length) {
    const op = bytes[at];
    const id = readU32(bytes, at + 1);
    const length = readU32(bytes, at + 5);
    const start = at + recordHeaderSize;
    if (op === 0 || start + length > bytes.length) throw new Error(`hosts/xs: malformed outbox record at ${at} (op ${op}, length ${length})`);
    each(op, id, start, start + length);
    at = start + length;
  }
}
