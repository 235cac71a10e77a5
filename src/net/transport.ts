// What the MQTT client needs from a connection: connect, read bytes, write whole packets, close.
// Implementations wrap Moddable's `socket` (socket-transport) and, later, ECMA-419 TCP, TLS or WebSocket.
import type { ByteSource } from "../mqtt/codec";

export interface TransportListener {
  /** TCP connected: the client sends CONNECT. */
  onTransportConnect(): void;
  /** Bytes are available: read them through the transport's ByteSource methods now. */
  onTransportData(): void;
  /** Window space was freed. */
  onTransportWritable(): void;
  /** The connection ended; `error` is true for a failure (refused, reset), false for an orderly close. */
  onTransportClose(error: boolean): void;
}

export interface Transport extends ByteSource {
  /** Starts connecting; events go to `listener` until close(). */
  open(host: string, port: number, listener: TransportListener): void;
  /** Bytes that can be written now. */
  writable(): number;
  /** Writes src[start, end) entirely; the caller checked writable(). */
  write(src: Uint8Array, start: number, end: number): void;
  /** Ends the connection; no events afterwards. */
  close(): void;
}
