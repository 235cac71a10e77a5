// What the MQTT client needs from a connection: connect, read bytes, write whole packets, close.
// Implementations wrap ECMA-419 `embedded:io/socket/tcp` (tcp-transport, the default) and Moddable's `socket`.

/** Where the reader takes bytes from: the transports implement it. */
export interface ByteSource {
  /** Bytes that can be read now. */
  available(): number;
  /** One byte (only when available() > 0): the packet header. */
  readByte(): number;
  /** Up to `max` bytes into dst[offset..], copied natively where the transport can; returns the count. */
  readInto(dst: Uint8Array, offset: number, max: number): number;
  /** Exactly dst.length bytes into dst (the caller checked available()): one native read where it can. */
  readAll(dst: Uint8Array): void;
  /** Discards up to `max` bytes (the part of an oversize packet that does not fit); returns the count. */
  skip(max: number): number;
}

export interface TransportListener {
  /** TCP connected: the client sends CONNECT. */
  onTransportConnect(): void;
  /** Bytes are available: read them through the transport's ByteSource methods now. */
  onTransportData(): void;
  /** Window space was freed. */
  onTransportWritable(): void;
  /** The connection ended or could not be made; `reason` says which, in words for the application's log. */
  onTransportClose(error: boolean, reason?: string): void;
}

export interface Transport extends ByteSource {
  /** Starts connecting (resolving `host` first if it is a name); events go to `listener` until close(). */
  open(host: string, port: number, listener: TransportListener): void;
  /** Bytes that can be written now. */
  writable(): number;
  /**
   * Writes the whole packet, copied before it returns, and returns true; or writes nothing and returns false
   * when the output buffer lacks room for all of it (or there is no connection).
   */
  write(packet: Uint8Array): boolean;
  /** Ends the connection; no events afterwards. */
  close(): void;
}

/** True for a dotted IPv4 address (a name needs resolving first on lwip). */
export function isAddress(host: string): boolean {
  let dots = 0, digits = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 0x2e) { if (digits === 0) return false; dots++; digits = 0; }
    else if (c >= 0x30 && c <= 0x39) digits++;
    else return false;
  }
  return dots === 3 && digits > 0;
}
