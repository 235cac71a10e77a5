// Moddable's `socket` module (TCP client) INSIDE XS, bridged to a real Node net.Socket by the runner.
// Follows the lwIP implementation an ESP8266 runs: data is readable only inside the callback for message 2,
// write() sends all or throws "can't write all data", and write space is freed as the peer acknowledges.
import { Delivery, Request, readU32 } from "../protocol.ts";
import { fromUtf8, guarded, nextId, onDelivery, request, utf8 } from "./bridge.ts";

/** lwIP's TCP_SND_BUF on the ESP8266 (2 x MSS): what write() can take before acknowledgements. */
const sendBufferSize = 2 * 1460;

const sockets = new Map<number, Socket>();

type Data = string | number | ArrayBufferLike | ArrayBufferView;

export class Socket {
  static readonly connected = 1;
  static readonly readable = 2;
  static readonly writable = 3;
  static readonly error = -2;
  static readonly disconnected = -1;

  callback: ((this: Socket, message: number, value?: number) => void) | undefined = undefined;
  private readonly id: number;
  private closed = false;
  private closedByUser = false;
  private unacknowledged = 0;
  private remoteAddress: string | undefined;
  /** The bytes of the current message-2 callback, and how far they have been read. */
  private input: Uint8Array | undefined;
  private position = 0;

  constructor(options: { host?: string; address?: string; port?: number; kind?: string; listener?: unknown }) {
    if (options.listener !== undefined) throw new Error("socket: Listener is not supported by the XS host");
    if (options.kind !== undefined && options.kind !== "TCP") throw new Error(`socket: kind ${options.kind} is not supported by the XS host`);
    if (options.host === undefined && options.address === undefined) throw new Error("host required in dictionary");
    this.id = nextId();
    sockets.set(this.id, this);
    const reply = request(Request.SocketConnect, this.id, utf8(JSON.stringify({ host: options.host, address: options.address, port: options.port })));
    if (reply.length) this.remoteAddress = fromUtf8(reply);
  }

  read(type?: unknown, until?: number | string): any {
    if (this.closed) throw new Error("read on closed socket");
    const input = this.input;
    const available = input ? input.length - this.position : 0;
    if (!input || available === 0) return arguments.length === 0 ? 0 : undefined;
    if (arguments.length === 0) return available;
    let count = available;
    if (typeof until === "number") count = Math.min(count, Math.max(0, Math.floor(until)));
    else if (typeof until === "string" && until.length > 0) {
      const at = input.indexOf(until.charCodeAt(0), this.position);
      if (at >= 0) count = Math.min(count, at - this.position + 1); // the terminator is included
    }
    const start = this.position;
    if (type === Number) {
      this.position += 1;
      return input[start];
    }
    this.position += count;
    if (type === null) return count;
    if (type === String) return fromUtf8(input.subarray(start, start + count));
    if (type === ArrayBuffer) return input.slice(start, start + count).buffer;
    this.position = start;
    throw new Error("unsupported output type");
  }

  write(...data: Data[]): any {
    if (this.closed) throw new Error("write on closed socket");
    const available = sendBufferSize - this.unacknowledged;
    if (data.length === 0) return available;
    let needed = 0;
    const parts: Uint8Array[] = [];
    for (const item of data) {
      let bytes: Uint8Array;
      if (typeof item === "string") bytes = utf8(item);
      else if (typeof item === "number") bytes = Uint8Array.of(item & 0xff);
      else if (item instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && item instanceof SharedArrayBuffer)) bytes = new Uint8Array(item);
      else if (ArrayBuffer.isView(item)) bytes = new Uint8Array(item.buffer, item.byteOffset, item.byteLength);
      else throw new Error("unsupported type for write");
      parts.push(bytes);
      needed += bytes.length;
    }
    if (needed > available) throw new Error("can't write all data");
    const payload = new Uint8Array(needed);
    let offset = 0;
    for (const p of parts) {
      payload.set(p, offset);
      offset += p.length;
    }
    this.unacknowledged += needed;
    request(Request.SocketWrite, this.id, payload);
  }

  get(what: string): string | undefined {
    return what === "REMOTE_IP" ? this.remoteAddress : undefined;
  }

  close(): void {
    if (this.closedByUser) throw new Error("close on closed socket");
    this.closedByUser = true;
    if (this.closed) return; // the peer already went away; nothing left to release
    this.shutDown();
    request(Request.SocketClose, this.id);
  }

  /** @internal host deliveries */
  static deliver(id: number, run: (socket: Socket) => void): void {
    const socket = sockets.get(id);
    if (socket && !socket.closed) run(socket);
  }

  /** @internal */
  emit(message: number, value?: number): void {
    const callback = this.callback;
    if (callback) guarded(() => callback.call(this, message, value));
  }

  /** @internal message 2: the bytes can be read only during the callback, like on a board. */
  received(bytes: Uint8Array): void {
    this.input = bytes;
    this.position = 0;
    try {
      this.emit(Socket.readable, bytes.length);
    } finally {
      const unread = bytes.length - this.position;
      this.input = undefined;
      if (unread > 0 && !this.closed) trace(`socket: ${unread} received byte(s) left unread by the callback were dropped\n`);
    }
  }

  /** @internal */
  acknowledged(count: number): void {
    this.unacknowledged = Math.max(0, this.unacknowledged - count);
    this.emit(Socket.writable, sendBufferSize - this.unacknowledged);
  }

  /** @internal */
  shutDown(): void {
    this.closed = true;
    this.input = undefined;
    sockets.delete(this.id);
  }
}

onDelivery(Delivery.SocketConnected, (id) => Socket.deliver(id, (s) => s.emit(Socket.connected)));
onDelivery(Delivery.SocketData, (id, bytes) => Socket.deliver(id, (s) => s.received(bytes)));
onDelivery(Delivery.SocketSent, (id, bytes) => Socket.deliver(id, (s) => s.acknowledged(readU32(bytes, 0))));
onDelivery(Delivery.SocketDisconnected, (id) => Socket.deliver(id, (s) => { s.shutDown(); s.emit(Socket.disconnected); }));
onDelivery(Delivery.SocketError, (id) => Socket.deliver(id, (s) => { s.shutDown(); s.emit(Socket.error); }));

export class Listener {
  constructor(_options: { port: number }) {
    throw new Error("socket: Listener is not supported by the XS host");
  }
}

export default { Socket, Listener };
