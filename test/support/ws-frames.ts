// WebSocket frames as a server writes them and a client's as a server reads them (RFC 6455), for the tests of
// src/net/ws-transport.ts: written here independently of it, with Node's crypto for the handshake.
import { createHash } from "node:crypto";

export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface FrameOptions { fin?: boolean; mask?: boolean; rsv?: number; /** Force the 16- or 64-bit length form. */ lengthForm?: 16 | 64 }

/** A server frame: unmasked unless asked. */
export function frame(op: number, payload: ArrayLike<number> = [], o: FrameOptions = {}): Buffer {
  const n = payload.length, head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | op];
  const m = o.mask ? 0x80 : 0;
  if (n < 126 && !o.lengthForm) head.push(m | n);
  else if (n < 65536 && o.lengthForm !== 64) head.push(m | 126, n >> 8, n & 255);
  else {
    head.push(m | 127);
    const big = BigInt(n);
    for (let i = 7; i >= 0; i--) head.push(Number((big >> BigInt(i * 8)) & 255n));
  }
  const body = Buffer.from(Array.from(payload));
  if (o.mask) {
    const key = [0x12, 0x34, 0x56, 0x78];
    head.push(...key);
    for (let i = 0; i < n; i++) body[i] ^= key[i & 3];
  }
  return Buffer.concat([Buffer.from(head), body]);
}

export function closeFrame(code: number, reason = ""): Buffer {
  return frame(OP.close, Buffer.concat([Buffer.from([code >> 8, code & 255]), Buffer.from(reason)]));
}

export interface ClientFrame { fin: boolean; op: number; masked: boolean; mask: number; payload: Buffer }

/** Splits a client's byte stream into frames (unmasked); `rest` is an incomplete frame at the end. */
export function parseFrames(bytes: Buffer): { frames: ClientFrame[]; rest: Buffer } {
  const frames: ClientFrame[] = [];
  let at = 0;
  for (;;) {
    if (bytes.length - at < 2) break;
    const b0 = bytes[at], b1 = bytes[at + 1];
    let n = b1 & 127, p = at + 2;
    if (n === 126) { if (bytes.length - p < 2) break; n = bytes.readUInt16BE(p); p += 2; }
    else if (n === 127) { if (bytes.length - p < 8) break; n = Number(bytes.readBigUInt64BE(p)); p += 8; }
    const masked = (b1 & 0x80) !== 0;
    if (masked && bytes.length - p < 4) break;
    const key = masked ? bytes.subarray(p, p + 4) : Buffer.alloc(4);
    if (masked) p += 4;
    if (bytes.length - p < n) break;
    const payload = Buffer.from(bytes.subarray(p, p + n));
    for (let i = 0; i < n; i++) payload[i] ^= key[i & 3];
    frames.push({ fin: (b0 & 0x80) !== 0, op: b0 & 15, masked, mask: masked ? key.readUInt32BE(0) : 0, payload });
    at = p + n;
  }
  return { frames, rest: bytes.subarray(at) };
}

export function acceptFor(key: string): string {
  return createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
}

/** The request line and headers (names lower-cased) of an HTTP upgrade request, once it is complete. */
export function parseRequest(bytes: Buffer): { line: string; headers: Record<string, string>; length: number } | undefined {
  const end = bytes.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [line, ...rest] = bytes.subarray(0, end).toString("latin1").split("\r\n");
  const headers: Record<string, string> = {};
  for (const h of rest) {
    const c = h.indexOf(":");
    headers[h.slice(0, c).trim().toLowerCase()] = h.slice(c + 1).trim();
  }
  return { line, headers, length: end + 4 };
}

/** The 101 answer to a request with `key`; `change` edits it to make it wrong. */
export function upgradeResponse(key: string, change: { status?: string; accept?: string; protocol?: string | null; extra?: string[] } = {}): Buffer {
  const lines = [change.status ?? "HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${change.accept ?? acceptFor(key)}`];
  if (change.protocol !== null) lines.push(`Sec-WebSocket-Protocol: ${change.protocol ?? "mqtt"}`);
  lines.push(...(change.extra ?? []));
  return Buffer.from(lines.join("\r\n") + "\r\n\r\n");
}
