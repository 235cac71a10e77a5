// INSIDE XS: byte views of the buffers host modules are handed, made without allocating in the steady state
// (the view of the last ArrayBuffer is kept: callers reuse one staging buffer; a resizable one's view tracks it).

let lastBuffer: ArrayBufferLike | undefined;
let lastView: Uint8Array | undefined;

/** The bytes of an ArrayBuffer or view, or undefined when `data` is neither (xsmcGetBufferReadable's rule). */
export function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && data instanceof SharedArrayBuffer)) {
    if (data !== lastBuffer) {
      lastBuffer = data;
      lastView = new Uint8Array(data);
    }
    return lastView;
  }
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/** Whether `text` is a dotted IPv4 address (what lwIP's ipaddr_aton and Linux's inet_aton take in practice). */
export function isIPv4(text: string): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  for (const p of parts) if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return false;
  return true;
}
