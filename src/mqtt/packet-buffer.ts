// A buffer that holds exactly one outgoing packet: a length-tracking Uint8Array over a resizable ArrayBuffer.
// Resized to the packet's length, it is handed to the transport whole, so writing a packet needs no new view
// and no copy in JavaScript (socket.write and ECMA-419 write take the view and copy it natively).

/** A packet buffer of at most `max` bytes; resize it with `(bytes.buffer as ArrayBuffer).resize(n)`. XS and Node 20 have resizable ArrayBuffers; older engines do not. */
export function packetBytes(max: number): Uint8Array {
  const buffer = new ArrayBuffer(max, { maxByteLength: max });
  if (typeof buffer.resize !== "function")
    throw new RangeError("this engine has no resizable ArrayBuffer (XS and Node >= 20 do); xsmq needs one to write packets without allocating");
  return new Uint8Array(buffer);
}
