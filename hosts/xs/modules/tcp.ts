// ECMA-419 `embedded:io/socket/tcp` INSIDE XS, as Moddable builds it on lwIP (modules/io/socket/lwip/tcp.c):
// only `address` is read (a name in `host` is not resolved), onReadable(count)/onWritable(count)/onError(),
// read() into a new ArrayBuffer or the caller's buffer, write() returning the space left, formats "buffer" and
// "number". Received segments stay in XS until read; reading into a caller's buffer allocates nothing.
// lin (modules/io/socket/lin/tcp.c) differs in its 1536-byte buffer and in write(): no "not ready", a failed
// send is traced and reported through onError.
import { Request } from "../protocol.ts";
import { abort, begin, fromUtf8, nextId, outboxBytes, send, sendText } from "./bridge.ts";
import { bytesOf, isIPv4 } from "./buffers.ts";
import { peerOf, register, unregister, type Receiver } from "./connections.ts";
import hostConfig from "./host-config.ts";

const lin = hostConfig.platform === "lin";
/** lwIP's TCP_SND_BUF on the ESP8266; lin's kBufferSize. */
const sendBuffer = lin ? 1536 : 2 * 1460;

type Callback = ((this: TCP, count: number) => void) | undefined;

interface TCPOptions {
  address?: string;
  host?: string;
  port?: number;
  nodelay?: boolean;
  format?: string;
  onReadable?: Callback;
  onWritable?: Callback;
  onError?: ((this: TCP) => void) | undefined;
  /** Stored as `this.target` (ECMA-419; Moddable's builtinCommon does this): callbacks can be shared functions. */
  target?: unknown;
  from?: unknown;
}

function callbackOf(options: TCPOptions, name: "onReadable" | "onWritable" | "onError"): any {
  const fn = options[name];
  if (fn === undefined || fn === null) return undefined;
  if (typeof fn !== "function") throw new Error("not a function");
  return fn;
}

function formatOf(value: unknown): "buffer" | "number" {
  if (value === "buffer" || value === "number") return value;
  throw new RangeError("unimplemented");
}

export default class TCP {
  /** The dictionary's `target`, when it had one. */
  target: unknown;
  private readonly id: number;
  private fmt: "buffer" | "number";
  private readonly onReadable: Callback;
  private readonly onWritable: Callback;
  private readonly onError: ((this: TCP) => void) | undefined;
  /** Connected and not failed: write() is allowed. */
  private ready = false;
  private error = false;
  private closed = false;
  private unacknowledged = 0;
  private peer: [string, number] | undefined = undefined;
  // Received segments (delivery views and lengths), oldest at `head`; `position` is into the oldest.
  private readonly segments: (Uint8Array | undefined)[] = [];
  private readonly lengths: number[] = [];
  private head = 0;
  private count = 0;
  private position = 0;
  private available = 0;

  constructor(options: TCPOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("invalid dictionary");
    this.fmt = options.format ? formatOf(options.format) : "buffer";
    this.onReadable = callbackOf(options, "onReadable");
    this.onWritable = callbackOf(options, "onWritable");
    this.onError = callbackOf(options, "onError");
    if ("target" in options) this.target = options.target;
    if ("from" in options) throw new Error("from: not supported by the XS host");
    // lwIP: ipaddr_aton(address); `host` is never looked at.
    const address = String(options.address);
    if (!isIPv4(address)) throw new Error("invalid address");
    if (options.port === undefined) throw new Error("invalid");
    const port = Number(options.port) | 0;
    if (port < 0 || port > 65535) throw new RangeError("invalid port");
    this.id = nextId();
    register(this.id, this, TCP.receiver);
    sendText(Request.Connect, this.id, JSON.stringify({ kind: "tcp", address, port, nodelay: !!options.nodelay }));
  }

  get format(): "buffer" | "number" { return this.fmt; }
  set format(value: "buffer" | "number") { this.fmt = formatOf(value); }

  get remoteAddress(): string | undefined { return this.peer ? this.peer[0] : undefined; }
  get remotePort(): number | undefined { return this.peer ? this.peer[1] : undefined; }

  /**
   * "number": one byte. "buffer": no argument, everything available in a new ArrayBuffer; a count, that many;
   * an ArrayBuffer or view, fills all of it and returns its byteLength. Nothing available: undefined;
   * asking for more than is available throws.
   */
  read(what?: number | ArrayBufferLike | ArrayBufferView): any {
    if (this.closed) throw new Error("closed");
    const available = this.available;
    if (available === 0) return undefined;
    if (this.fmt === "number") {
      const segment = this.segments[this.head] as Uint8Array;
      const value = segment[this.position];
      this.consume(1);
      return value;
    }
    let out: Uint8Array;
    let requested: number;
    let result: unknown;
    if (what === undefined) {
      requested = available;
      out = new Uint8Array(requested);
      result = out.buffer;
    } else if (typeof what === "object" && what !== null) {
      const bytes = bytesOf(what);
      if (bytes === undefined) throw new TypeError("buffer required");
      out = bytes;
      requested = out.length;
      result = requested;
    } else {
      requested = Number(what) | 0;
      if (requested <= 0 || requested > available) throw new Error("invalid");
      out = new Uint8Array(requested);
      result = out.buffer;
    }
    if (requested <= 0 || requested > available) throw new Error("invalid");
    let at = 0;
    while (at < requested) {
      const segment = this.segments[this.head] as Uint8Array;
      let from = this.position;
      let use = this.lengths[this.head] - from;
      if (use > requested - at) use = requested - at;
      for (let i = 0; i < use; i++) out[at + i] = segment[from + i];
      at += use;
      this.consume(use);
    }
    return result;
  }

  /** Queues bytes (an ArrayBuffer or view; one byte in "number" format); returns the space left. */
  write(data: number | ArrayBufferLike | ArrayBufferView): number | undefined {
    if (this.closed) throw new Error("closed");
    if (lin) {
      if (!this.ready || this.error) {
        trace("write failed"); // lin: send() failed; onError follows
        return undefined;
      }
    } else {
      if (!this.ready) throw new Error("not ready");
      if (this.error) return undefined;
    }
    const free = sendBuffer - this.unacknowledged;
    if (this.fmt === "number") {
      if (free < 1) throw new Error("would block");
      outboxBytes[begin(Request.Write, this.id, 1)] = Number(data) & 0xff;
      this.unacknowledged += 1;
      return free - 1;
    }
    const bytes = bytesOf(data);
    if (bytes === undefined) throw new TypeError("buffer required");
    const n = bytes.length;
    if (n > free) throw new Error("would block");
    if (n > 0) outboxBytes.set(bytes, begin(Request.Write, this.id, n));
    this.unacknowledged += n;
    return free - n;
  }

  /** No callback runs afterwards; what was written still goes out, then the connection ends. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    for (let i = 0; i < this.segments.length; i++) this.segments[i] = undefined;
    this.count = this.available = 0;
    unregister(this.id);
    send(Request.Close, this.id);
  }

  /** Advances past n bytes of the oldest segment (n fits in it). */
  private consume(n: number): void {
    this.available -= n;
    this.position += n;
    if (this.position === this.lengths[this.head]) {
      this.segments[this.head] = undefined;
      this.head = (this.head + 1) % this.segments.length;
      this.count--;
      this.position = 0;
      send(Request.Consumed, this.id); // the Node side then delivers more, and onError once all was read
    }
  }

  private call(callback: Callback, count: number): void {
    try {
      (callback as (this: TCP, count: number) => void).call(this, count);
    } catch (e) {
      abort("tcp", e);
    }
  }

  /** One delivery, handled as lwIP's tcpDeliver handles its triggers. */
  private static readonly receiver: Receiver<TCP> = {
    connected(t, bytes, length) {
      if (t.closed) return;
      if (length > 0) t.peer = peerOf(fromUtf8(bytes.subarray(0, length)));
      t.ready = true;
      if (t.onWritable) t.call(t.onWritable, sendBuffer - t.unacknowledged);
    },
    data(t, bytes, length) {
      if (t.closed) return;
      const segments = t.segments;
      if (t.count === segments.length) {  // grow the ring (only when the Node side sends more than it usually does)
        const grown = segments.slice(t.head).concat(segments.slice(0, t.head));
        const lengths = t.lengths.slice(t.head).concat(t.lengths.slice(0, t.head));
        segments.length = t.lengths.length = 0;
        for (let i = 0; i < grown.length; i++) { segments.push(grown[i]); t.lengths.push(lengths[i]); }
        segments.push(undefined, undefined, undefined, undefined);
        t.lengths.push(0, 0, 0, 0);
        t.head = 0;
      }
      const tail = (t.head + t.count) % segments.length;
      segments[tail] = bytes;
      t.lengths[tail] = length;
      t.count++;
      t.available += length;
      if (t.onReadable) t.call(t.onReadable, t.available);
    },
    sent(t, count) {
      if (t.closed) return;
      t.unacknowledged -= count;
      if (t.unacknowledged < 0) t.unacknowledged = 0;
      if (!t.error && t.ready && t.onWritable) t.call(t.onWritable, sendBuffer - t.unacknowledged);
    },
    ended(t) {
      if (t.closed) return;
      t.error = true;
      t.ready = false;
      if (t.available > 0) return; // onError once what arrived has been read (the Node side reports it again)
      if (t.onError) {
        try {
          (t.onError as (this: TCP) => void).call(t);
        } catch (e) {
          abort("tcp", e);
        }
      }
    },
  };
}
