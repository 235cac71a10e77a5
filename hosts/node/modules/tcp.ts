// Node implementation of ECMA-419 `embedded:io/socket/tcp` as Moddable builds it on lwip (modules/io/socket/lwip):
// callbacks onReadable(count)/onWritable(count)/onError(), formats "buffer" and "number", obeying the device's network.
import net from "node:net";
import { currentBoard, type Board, type BoardConnection, type BoardNetwork } from "../board.ts";

// Triggers, delivered together on the next turn like lwip's tcpDeliver: output, readable, writable, error.
const WRITABLE = 1, READABLE = 2, ERROR = 4, OUTPUT = 8;

// Not types/embedded-io-tcp.d.ts's TCPOptions on purpose: that one promises src/ no more than the SDK's typings;
// the stand-in also takes `host` (no DNS step in tests) and refuses `from`.
export interface TCPOptions {
  /** IPv4 address of the remote end (required by ECMA-419). */
  address?: string;
  /** Host name instead of `address` (a simulator convenience; a board resolves names with `net` first). */
  host?: string;
  port: number;
  nodelay?: boolean;
  format?: "buffer" | "number";
  onReadable?: (this: TCP, count: number) => void;
  onWritable?: (this: TCP, count: number) => void;
  onError?: (this: TCP) => void;
  /** Stored as `this.target` (ECMA-419; Moddable's builtinCommon does this): callbacks can be shared functions. */
  target?: unknown;
  from?: unknown;
}

type Callback = ((this: TCP, count: number) => void) | undefined;

export default class TCP {
  private readonly board: Board;
  private readonly network: BoardNetwork;
  /** The connection under the device's network conditions (node socket, delay lines, windows, staged writes). */
  private readonly connection: BoardConnection;
  private readonly onReadable: Callback;
  private readonly onWritable: Callback;
  private readonly onError: ((this: TCP) => void) | undefined;
  private fmt: "buffer" | "number";
  /** Connected and not failed: write() is allowed. */
  private ready = false;
  private error = false;
  private closed = false;
  private triggered = 0;

  // Receive side: chunks as Node delivered them, `pos` into the first; the connection counts the unread bytes.
  private rx: Buffer[] = [];
  private pos = 0;

  // Bound once, so the hot path allocates only Node's own objects.
  private readonly deliverNow = (): void => this.deliver();

  constructor(options: TCPOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("invalid dictionary");
    if (options.from !== undefined) throw new Error("from: no TCP listener is simulated");
    const format = options.format ?? "buffer";
    if (format !== "buffer" && format !== "number") throw new RangeError("unimplemented");
    const target = options.address ?? options.host;
    if (target === undefined) throw new Error("invalid address");
    if (options.address !== undefined && net.isIPv4(String(options.address)) === false) throw new Error("invalid address");
    const port = Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError("invalid port");

    this.board = currentBoard();
    this.connection = this.board.openConnection({
      isOpen: () => this.isOpen,
      connected: () => this.connected(),
      received: (chunk) => this.received(chunk),
      ended: () => this.trigger(ERROR),  // ECMA-419: onError also reports a clean disconnect
      failed: () => this.trigger(ERROR),
      acknowledged: (bytes) => this.acknowledged(bytes),
    });
    this.network = this.board.network;
    this.fmt = format;
    this.onReadable = typeof options.onReadable === "function" ? options.onReadable : undefined;
    this.onWritable = typeof options.onWritable === "function" ? options.onWritable : undefined;
    this.onError = typeof options.onError === "function" ? options.onError : undefined;
    if ("target" in options) this.target = options.target;
    this.connection.connect(target, port, !!options.nodelay, undefined);
  }

  /** The dictionary's `target`, when it had one. */
  target: unknown;

  get format(): "buffer" | "number" { return this.fmt; }
  set format(value: "buffer" | "number") {
    if (value !== "buffer" && value !== "number") throw new RangeError("unimplemented");
    this.fmt = value;
  }

  get remoteAddress(): string | undefined { return this.connection.remoteAddress; }

  get remotePort(): number | undefined { return this.connection.remotePort; }

  /**
   * "number": one byte. "buffer": no argument, all available bytes; a count, that many; an ArrayBuffer or view,
   * fills all of it and returns its byteLength. More than is available throws; nothing available gives undefined.
   */
  read(what?: number | ArrayBuffer | ArrayBufferView): any {
    if (this.closed) throw new Error("closed");
    const available = this.connection.rxBytes;
    if (available === 0) return undefined;
    if (this.fmt === "number") {
      const chunk = this.rx[0];
      const value = chunk[this.pos];
      this.consumed(1);
      return value;
    }
    if (what === undefined) return this.take(new Uint8Array(available), available).buffer;
    if (typeof what === "object" && what !== null) {
      const out = this.viewOf(what);
      const n = out.byteLength;
      if (n <= 0 || n > available) throw new Error("invalid");
      this.take(out, n);
      return n;
    }
    const n = Math.trunc(Number(what));
    if (!(n > 0) || n > available) throw new Error("invalid");
    return this.take(new Uint8Array(n), n).buffer;
  }

  /** Queues bytes (an ArrayBuffer or view, or one byte in "number" format) and returns the space left. */
  write(data: number | ArrayBuffer | ArrayBufferView): number | undefined {
    if (this.closed) throw new Error("closed");
    if (!this.ready && !this.error) throw new Error("not ready");
    if (this.error) return undefined;
    const connection = this.connection;
    const free = connection.free;
    if (this.fmt === "number") {
      if (free < 1) throw new Error("would block");
      connection.putByte(Number(data));
    } else {
      if (typeof data !== "object" || data === null) throw new TypeError("buffer required");
      const bytes = this.viewOf(data);
      const n = bytes.byteLength;
      if (n > free) throw new Error("would block");
      if (n > 0) connection.put(bytes);
    }
    this.trigger(OUTPUT);
    return connection.free;
  }

  /** Frees the socket: no callback runs afterwards; what was written still goes out, then the connection ends. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.triggered = 0;
    this.ready = false;
    this.rx = [];
    this.connection.rxBytes = 0;
    this.connection.close(!this.error);
  }

  /** Not closed by the app and not failed. */
  get isOpen(): boolean { return !this.closed && !this.error; }

  // --- what the connection reports ---

  private connected(): void {
    this.ready = true;
    this.network.countConnect();
    this.trigger(WRITABLE);
  }

  private received(chunk: Buffer): void {
    this.rx.push(chunk);
    this.trigger(READABLE);
  }

  private acknowledged(bytes: number): void {
    if (this.closed) return;
    this.connection.outstanding -= bytes;
    this.trigger(WRITABLE);  // lwip's tcpSent triggers writable on every acknowledgement
  }

  // --- receive bookkeeping ---

  /** Copies n bytes (n <= rxBytes) into out[0..n) and consumes them. */
  private take(out: Uint8Array, n: number): Uint8Array {
    let at = 0;
    while (at < n) {
      const chunk = this.rx[0];
      const use = Math.min(n - at, chunk.length - this.pos);
      chunk.copy(out, at, this.pos, this.pos + use);  // native copy, no view allocated
      at += use;
      this.consumed(use);
    }
    return out;
  }

  /** Advances past n bytes of the first chunk (n fits in it). */
  private consumed(n: number): void {
    const chunk = this.rx[0];
    this.pos += n;
    const chunkEnd = this.pos === chunk.length;
    if (chunkEnd) {
      this.rx.shift();
      this.pos = 0;
    }
    const connection = this.connection;
    connection.consumed(n, chunkEnd);
    if (connection.rxBytes === 0 && this.error) this.trigger(ERROR);  // held back until what arrived was read
  }

  /** A byte view of a buffer argument (anything but an ArrayBuffer or view is refused). */
  private viewOf(data: ArrayBuffer | ArrayBufferView): Uint8Array {
    if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) throw new TypeError("buffer required");
    return this.connection.bytesOf(data);
  }

  // --- delivery (lwip posts one message per batch of triggers) ---

  private trigger(bits: number): void {
    if (this.closed) return;
    const was = this.triggered;
    this.triggered = was | bits;
    if (was === 0) setImmediate(this.deliverNow);
  }

  private deliver(): void {
    let t = this.triggered;
    this.triggered = 0;
    if (this.closed || t === 0) return;
    if (t & ERROR) {
      t &= ~(OUTPUT | WRITABLE);
      if (!this.error) {
        this.error = true;
        this.ready = false;
        this.connection.release();  // the connection is gone; unread data stays readable
      }
    }
    if (t & OUTPUT) this.connection.flush();
    if (t & READABLE && this.connection.rxBytes > 0 && this.onReadable) {
      this.board.call(this.onReadable, this, this.connection.rxBytes, undefined);
      if (this.closed) return;
    }
    if (this.error) {
      if (this.connection.rxBytes > 0) return;  // onError once the app has read what arrived first
      if (t & ERROR && this.onError) this.board.call(this.onError, this, undefined, undefined);
      return;
    }
    if (t & WRITABLE && this.ready && this.onWritable) this.board.call(this.onWritable, this, this.connection.free, undefined);
  }
}
