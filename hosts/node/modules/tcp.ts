// Node implementation of ECMA-419 `embedded:io/socket/tcp` as Moddable builds it on lwip (modules/io/socket/lwip):
// callbacks onReadable(count)/onWritable(count)/onError(), formats "buffer" and "number", obeying the device's network.
import net from "node:net";
import { currentDevice, type Device } from "../device.ts";
import { DelayLine, type NetworkConditions, type NetworkEndpoint } from "../network.ts";

// Triggers, delivered together on the next turn like lwip's tcpDeliver: output, readable, writable, error.
const WRITABLE = 1, READABLE = 2, ERROR = 4, OUTPUT = 8;

const SYN = Symbol("syn");
const FIN = Symbol("fin");
const CONNECTED = Symbol("connected");
type Outgoing = Buffer | typeof SYN | typeof FIN;
type Incoming = Buffer | typeof FIN | typeof CONNECTED | Error;

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
  from?: unknown;
}

type Callback = ((this: TCP, count: number) => void) | undefined;

export default class TCP implements NetworkEndpoint {
  private readonly device: Device;
  private readonly network: NetworkConditions;
  private readonly options: TCPOptions;
  private readonly onReadable: Callback;
  private readonly onWritable: Callback;
  private readonly onError: ((this: TCP) => void) | undefined;
  private node: net.Socket | undefined = undefined;
  private fmt: "buffer" | "number";
  /** Connected and not failed: write() is allowed. */
  private ready = false;
  private error = false;
  private closed = false;
  private triggered = 0;

  // Receive side: chunks as Node delivered them, `pos` into the first.
  private rx: Buffer[] = [];
  private pos = 0;
  private rxBytes = 0;
  private pausedForWindow = false;

  // Send side: unacknowledged bytes, this turn's staged writes, the lengths Node still holds.
  private outstanding = 0;
  private stage: Buffer | undefined = undefined;
  private stageLength = 0;
  private readonly inNode: number[] = [];
  private lastBuffer: ArrayBuffer | undefined = undefined;
  private lastView: Uint8Array | undefined = undefined;

  private readonly inbound: DelayLine<Incoming>;
  private readonly outbound: DelayLine<Outgoing>;
  private readonly acks: DelayLine<number>;
  // Bound once, so the hot path allocates only Node's own objects.
  private readonly deliverNow = (): void => this.deliver();
  private readonly written = (err?: Error | null): void => {
    const bytes = this.inNode.shift() as number;
    if (!err) this.acks.push(bytes);
  };

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

    this.device = currentDevice();
    this.network = this.device.network;
    this.options = options;
    this.fmt = format;
    this.onReadable = typeof options.onReadable === "function" ? options.onReadable : undefined;
    this.onWritable = typeof options.onWritable === "function" ? options.onWritable : undefined;
    this.onError = typeof options.onError === "function" ? options.onError : undefined;
    this.inbound = new DelayLine(this.network, (item) => this.arrive(item));
    this.outbound = new DelayLine(this.network, (item) => this.depart(item));
    this.acks = new DelayLine(this.network, (bytes) => this.acknowledged(bytes));

    this.network.connectAttempts++;
    this.network.attach(this);
    if (!this.network.linkUp) {
      this.device.clock.schedule(() => this.trigger(ERROR), this.network.linkDownFailMs);
      return;
    }
    this.outbound.push(SYN);
  }

  get format(): "buffer" | "number" { return this.fmt; }
  set format(value: "buffer" | "number") {
    if (value !== "buffer" && value !== "number") throw new RangeError("unimplemented");
    this.fmt = value;
  }

  get remoteAddress(): string | undefined {
    const ip = this.node?.remoteAddress;
    return ip?.startsWith("::ffff:") ? ip.slice(7) : ip;
  }

  get remotePort(): number | undefined { return this.node?.remotePort; }

  /**
   * "number": one byte. "buffer": no argument, all available bytes; a count, that many; an ArrayBuffer or view,
   * fills all of it and returns its byteLength. More than is available throws; nothing available gives undefined.
   */
  read(what?: number | ArrayBuffer | ArrayBufferView): any {
    if (this.closed) throw new Error("closed");
    const available = this.rxBytes;
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
    const free = this.network.sendWindow - this.outstanding;
    if (this.fmt === "number") {
      if (free < 1) throw new Error("would block");
      this.reserve(1);
      (this.stage as Buffer)[this.stageLength++] = Number(data) & 255;
      this.outstanding += 1;
    } else {
      if (typeof data !== "object" || data === null) throw new TypeError("buffer required");
      const bytes = this.viewOf(data);
      const n = bytes.byteLength;
      if (n > free) throw new Error("would block");
      if (n > 0) {
        this.reserve(n);
        (this.stage as Buffer).set(bytes, this.stageLength);
        this.stageLength += n;
        this.outstanding += n;
      }
    }
    this.trigger(OUTPUT);
    return this.network.sendWindow - this.outstanding;
  }

  /** Frees the socket: no callback runs afterwards; what was written still goes out, then the connection ends. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.triggered = 0;
    this.ready = false;
    this.inbound.clear();
    this.acks.clear();
    this.rx = [];
    this.rxBytes = 0;
    const node = this.node;
    if (node !== undefined && !node.destroyed && !this.error) {
      this.flush();
      this.outbound.push(FIN);
      node.once("close", () => this.network.detach(this));
    } else {
      this.release();
    }
  }

  // --- NetworkEndpoint ---

  get isOpen(): boolean { return !this.closed && !this.error; }

  pathChanged(): void {
    const node = this.node;
    if (node && !node.destroyed) {
      if (this.network.pathOpen && !this.pausedForWindow) node.resume();
      else node.pause();
    }
    this.outbound.pump();
    this.inbound.pump();
    this.acks.pump();
  }

  reset(): void {
    const node = this.node;
    if (node && !node.destroyed) node.resetAndDestroy();
    if (this.isOpen) this.trigger(ERROR);
    else this.release();
  }

  // --- connection ---

  private depart(item: Outgoing): void {
    if (item === SYN) {
      const o = this.options;
      const node = net.connect({ host: o.address ?? o.host, port: Number(o.port) });
      this.node = node;
      if (o.nodelay) node.setNoDelay(true);
      node.on("connect", () => this.inbound.push(CONNECTED));
      node.on("data", (chunk: Buffer) => this.inbound.push(chunk));
      node.on("end", () => this.inbound.push(FIN));
      node.on("error", (err) => this.inbound.push(err));
      return;
    }
    const node = this.node;
    if (!node || node.destroyed) return;
    if (item === FIN) {
      node.end(() => node.destroy());
      return;
    }
    this.network.countOut(item.length);
    this.inNode.push(item.length);
    node.write(item, this.written);
  }

  private arrive(item: Incoming): void {
    if (!this.isOpen) return;
    if (item === CONNECTED) {
      this.ready = true;
      this.network.countConnect();
      this.trigger(WRITABLE);
    } else if (item === FIN || item instanceof Error) {
      this.trigger(ERROR);  // ECMA-419: onError also reports a clean disconnect
    } else {
      this.network.countIn(item.length);
      this.rx.push(item);
      this.rxBytes += item.length;
      if (this.rxBytes >= this.network.receiveWindow && !this.pausedForWindow) {
        this.pausedForWindow = true;
        this.node?.pause();
      }
      this.trigger(READABLE);
    }
  }

  private acknowledged(bytes: number): void {
    if (this.closed) return;
    this.outstanding -= bytes;
    this.trigger(WRITABLE);  // lwip's tcpSent triggers writable on every acknowledgement
  }

  private release(): void {
    this.node?.destroy();
    this.inbound.clear();
    this.outbound.clear();
    this.acks.clear();
    this.network.detach(this);
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
    this.rxBytes -= n;
    if (this.pos === chunk.length) {
      this.rx.shift();
      this.pos = 0;
      if (this.pausedForWindow && this.rxBytes < this.network.receiveWindow) {
        this.pausedForWindow = false;
        if (this.network.pathOpen) this.node?.resume();
      }
    }
    if (this.rxBytes === 0 && this.error) this.trigger(ERROR);  // held back until what arrived was read
  }

  /** A byte view of a buffer argument; the view of the last ArrayBuffer is kept (callers reuse one staging buffer;
   *  on a resizable buffer the view tracks its length). */
  private viewOf(data: ArrayBuffer | ArrayBufferView): Uint8Array {
    if (data instanceof Uint8Array) return data;
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (!(data instanceof ArrayBuffer)) throw new TypeError("buffer required");
    if (data !== this.lastBuffer) {
      this.lastBuffer = data;
      this.lastView = new Uint8Array(data);
    }
    return this.lastView as Uint8Array;
  }

  // --- send bookkeeping ---

  private reserve(bytes: number): void {
    const stage = this.stage;
    const want = this.stageLength + bytes;
    if (stage && want <= stage.length) return;
    const grown = Buffer.allocUnsafe(Math.max(1024, want, stage ? stage.length * 2 : 0));
    if (stage) stage.copy(grown, 0, 0, this.stageLength);
    this.stage = grown;
  }

  /** Hands this turn's writes to Node as one buffer (lwip combines writes of one turn too). */
  private flush(): void {
    const n = this.stageLength;
    if (n === 0 || !this.stage) return;
    const out = Buffer.allocUnsafe(n);  // Node keeps it until written; the stage is reused
    this.stage.copy(out, 0, 0, n);
    this.stageLength = 0;
    this.outbound.push(out);
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
        this.release();  // the connection is gone; unread data stays readable
      }
    }
    if (t & OUTPUT) this.flush();
    if (t & READABLE && this.rxBytes > 0 && this.onReadable) {
      this.device.call(this.onReadable, this, this.rxBytes, undefined);
      if (this.closed) return;
    }
    if (this.error) {
      if (this.rxBytes > 0) return;  // onError once the app has read what arrived first
      if (t & ERROR && this.onError) this.device.call(this.onError, this, undefined, undefined);
      return;
    }
    if (t & WRITABLE && this.ready && this.onWritable) this.device.call(this.onWritable, this, this.network.sendWindow - this.outstanding, undefined);
  }
}
