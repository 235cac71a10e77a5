// Message layout between the XS-side host modules and the Node runner, shared by both sides.
// Every message is [op u8][id u32 little-endian][payload bytes]; ids name a timer, socket or call.

/** XS -> Node, through `issueCommand` (XS waits for the answer). */
export const Request = {
  Trace: 1,
  TimerSet: 2, // payload: delay ms as u32
  TimerClear: 3,
  SocketConnect: 4, // payload: UTF-8 JSON { host?, address?, port }
  SocketWrite: 5, // payload: the bytes
  SocketClose: 6,
  CallResult: 7, // payload: UTF-8 JSON of the value
  CallError: 8, // payload: UTF-8 text
  Fault: 9, // payload: UTF-8 text; an exception escaped a callback
} as const;

/** Node -> XS, through the worker's `?` command into the global `handleCommand`. */
export const Delivery = {
  TimerFire: 1,
  SocketConnected: 2,
  SocketData: 3, // payload: the bytes
  SocketSent: 4, // payload: bytes acknowledged as u32
  SocketDisconnected: 5,
  SocketError: 6,
  Call: 7, // payload: UTF-8 JSON { name, args }
  Collect: 8, // force a garbage collection
} as const;

export const headerSize = 5;

/** Builds a message; `payload` is copied after the header. */
export function frame(op: number, id: number, payload?: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(headerSize + (payload ? payload.length : 0));
  bytes[0] = op;
  bytes[1] = id & 0xff;
  bytes[2] = (id >>> 8) & 0xff;
  bytes[3] = (id >>> 16) & 0xff;
  bytes[4] = (id >>> 24) & 0xff;
  if (payload) bytes.set(payload, headerSize);
  return bytes;
}

export function opOf(bytes: Uint8Array): number { return bytes[0]; }

export function idOf(bytes: Uint8Array): number {
  return (bytes[1] | (bytes[2] << 8) | (bytes[3] << 16) | (bytes[4] << 24)) >>> 0;
}

export function u32(value: number): Uint8Array {
  return new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]);
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}
