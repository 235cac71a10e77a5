// Node implementation of Moddable's `socket` module (TCP Socket and Listener) over node:net, following
// documentation/network/network.md and the lwip port's behaviour; every socket obeys its device's NetworkConditions.
import net from "node:net";
import { currentDevice, type Device } from "../device.ts";
import { DelayLine, type NetworkConditions, type NetworkEndpoint } from "../network.ts";

// Pending messages, delivered in lwip's order (socketClearPending): connect, receive, sent, disconnect, error.
const CONNECT = 1, RECEIVE = 2, SENT = 4, DISCONNECT = 8, ERROR = 16;

// Markers that travel through the delay lines with the data, so order and latency apply to them too.
const SYN = Symbol("syn");          // outgoing: start connecting
const FIN = Symbol("fin");          // outgoing: close after the data; incoming: the peer closed
const CONNECTED = Symbol("connected");
type Outgoing = Buffer | typeof SYN | typeof FIN;
type Incoming = Buffer | typeof FIN | typeof CONNECTED | Error;

// Copies below this size go into Node's pooled slab; larger stages are handed over whole.
const SMALL_FLUSH = 4096;

type Callback = (this: Socket, message: number, value?: number) => void;

interface SocketOptions {
  host?: string;
  address?: string;
  port?: number;
  kind?: string;
  noDelay?: boolean;
  keepalive?: { idle?: number; interval?: number; count?: number; enable?: boolean };
  listener?: Listener;
}

export class Socket implements NetworkEndpoint {
  static readonly connected = 1;
  static readonly readable = 2;
  static readonly writable = 3;
  static readonly error = -2;
  static readonly disconnected = -1;

  callback: Callback | undefined = undefined;

  private readonly device: Device;
  private readonly network: NetworkConditions;
  private node: net.Socket | undefined = undefined;
  private readonly options: SocketOptions;
  /** connecting -> open -> failed (-1/-2 queued); closed once the app calls close(). */
  private state: "connecting" | "open" | "failed" | "closed" = "connecting";
  private pending = 0;
  private serviceQueued = false;

  // Receive side: the chunk being read (lwip's current pbuf) and the ones behind it.
  private cur: Buffer | undefined = undefined;
  private pos = 0;
  private rxQueue: (Buffer | undefined)[] = [];
  private rxHead = 0;
  private rxBytes = 0;
  private peerClosed = false;
  private pausedForWindow = false;
  private warnedUnread = false;

  // Send side: written but unacknowledged bytes, and this tick's staged copy of what was written.
  private outstanding = 0;
  private stage: Buffer | undefined = undefined;
  private stageLength = 0;
  private flushQueued = false;
  private lastWritten: ArrayBuffer | undefined = undefined;
  private lastWrittenView: Uint8Array | undefined = undefined;

  // Lengths of the writes Node holds, oldest first: one bound callback for all of them instead of a closure each.
  private readonly inNode: number[] = [];
  private readonly written = (err?: Error | null): void => {
    const bytes = this.inNode.shift() as number;
    if (!err) this.acks.push(bytes);
  };
  // Bound once: setImmediate per batch then allocates only its own Immediate.
  private readonly serviceNow = (): void => this.service();
  private readonly flushNow = (): void => this.flush();

  private readonly inbound: DelayLine<Incoming>;
  private readonly outbound: DelayLine<Outgoing>;
  private readonly acks: DelayLine<number>;

  constructor(options: SocketOptions) {
    if (options === null || typeof options !== "object") throw new Error("invalid dictionary");
    this.device = currentDevice();
    this.network = this.device.network;
    this.options = options;
    this.inbound = new DelayLine(this.network, (item) => this.arrive(item));
    this.outbound = new DelayLine(this.network, (item) => this.depart(item));
    this.acks = new DelayLine(this.network, (bytes) => this.acknowledged(bytes));

    if (options.listener !== undefined) {
      const accepted = options.listener.take();
      if (!accepted) throw new Error("no socket available from listener");
      this.adopt(accepted);
      this.network.attach(this);
      this.inbound.push(CONNECTED);  // lwip sets kPendingConnect on accepted sockets too
      if (!this.network.pathOpen) accepted.pause();
      else accepted.resume();
      return;
    }

    const kind = options.kind ?? "TCP";
    if (kind === "UDP" || kind === "RAW") throw new Error(`${kind} sockets are not simulated`);
    if (kind !== "TCP") throw new Error("invalid socket kind");
    if (options.host === undefined && options.address === undefined) throw new Error("invalid dictionary");
    if (options.address !== undefined && net.isIP(String(options.address)) === 0) throw new Error("invalid IP address");
    const port = Number(options.port);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error("invalid port");

    this.network.connectAttempts++;
    this.network.attach(this);
    if (!this.network.linkUp) {
      // No route while the radio is down: the attempt fails shortly, as a board's stack reports it.
      this.device.clock.schedule(() => this.fail(), this.network.linkDownFailMs);
      return;
    }
    this.outbound.push(SYN);
  }

  /** True until the app closes it or it fails. */
  get isOpen(): boolean {
    return this.state === "connecting" || this.state === "open";
  }

  /** Bytes available (no argument), one byte (Number), a String/ArrayBuffer, or a skip count (null). */
  read(type?: unknown, until?: unknown): any {
    if (this.state === "closed") throw new Error("read on closed socket");
    const cur = this.cur;
    const pos = this.pos;
    if (cur === undefined || pos >= cur.length) {
      if (arguments.length === 0) return 0;
      throw new Error("nothing to read");
    }
    if (type === Number) {  // the client's hot path: no allocation
      this.pos = pos + 1;
      if (pos + 1 === cur.length) this.drained();
      return cur[pos];
    }
    const available = cur.length - pos;
    if (arguments.length === 0) return available;

    let count = available;
    if (typeof until === "number") {
      if (until < count) count = Math.max(0, Math.trunc(until));
    } else if (typeof until === "string") {
      // The terminator is the string's first byte; it is included in the result.
      if (until.length > 0) {
        const first = until.charCodeAt(0);
        const at = cur.indexOf(first < 128 ? first : Buffer.from(until, "utf8")[0], pos);
        if (at >= 0) count = at - pos + 1;
      }
    } else if (until !== undefined && arguments.length > 1) {
      throw new Error("invalid read limit");
    }

    let result: unknown;
    if (type === null) result = count;
    else if (type === String) result = cur.toString("utf8", pos, pos + count);
    else if (type === ArrayBuffer) result = cur.buffer.slice(cur.byteOffset + pos, cur.byteOffset + pos + count);
    else throw new Error("unsupported output type");

    this.pos = pos + count;
    if (this.pos === cur.length) this.drained();
    return result;
  }

  /** Free space in the send window (no argument), or writes every argument, all or nothing. */
  write(_first?: unknown, ..._more: unknown[]): any {
    // `arguments` rather than the rest array: V8 reads it without allocating.
    // eslint-disable-next-line prefer-rest-params
    const data = arguments;
    const count = data.length;
    if (this.state === "closed") throw new Error("write on closed socket");
    if (this.state === "failed") {
      if (count === 0) return 0;
      this.device.traceSink("write on closed socket\n");
      return;
    }
    const free = Math.max(0, this.network.sendWindow - this.outstanding);
    if (count === 0) return free;

    let needed = 0;
    for (let i = 0; i < count; i++) needed += byteLengthOf(data[i]);
    if (needed > free) throw new Error("can't write all data");
    if (needed === 0) return;

    // Copy now: the caller reuses its buffers immediately (and Node would keep a reference).
    this.reserve(needed);
    let at = this.stageLength;
    for (let i = 0; i < count; i++) at = this.stageOne(data[i], at);
    this.stageLength = at;
    this.outstanding += needed;
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushNow);
    }
  }

  /** Copies one write argument into the stage at `at`; returns the end. An ArrayBuffer is copied without a view. */
  private stageOne(d: unknown, at: number): number {
    const stage = this.stage as Buffer;
    if (typeof d === "string") return at + stage.write(d, at, "utf8");
    if (typeof d === "number") { stage[at] = d & 255; return at + 1; }
    if (d instanceof Uint8Array) { stage.set(d, at); return at + d.byteLength; }
    if (ArrayBuffer.isView(d)) { stage.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at); return at + d.byteLength; }
    const view = this.viewOf(d as ArrayBuffer);
    stage.set(view, at);
    return at + view.byteLength;
  }

  /** A byte view of `buffer`, kept for the next write of the same buffer (transports write one staging buffer
   *  over and over). On a resizable buffer the view tracks its length, so it stays right after resize(). */
  private viewOf(buffer: ArrayBuffer): Uint8Array {
    if (buffer !== this.lastWritten) {
      this.lastWritten = buffer;
      this.lastWrittenView = new Uint8Array(buffer);
    }
    return this.lastWrittenView as Uint8Array;
  }

  get(what: string): string | undefined {
    if (what !== "REMOTE_IP" || this.state === "closed") return undefined;
    const ip = this.node?.remoteAddress;
    return ip?.startsWith("::ffff:") ? ip.slice(7) : ip;
  }

  /** Frees the socket at once; written data still goes out, then the connection closes. No callback follows. */
  close(): void {
    if (this.state === "closed") return;
    const node = this.node;
    const flushing = node !== undefined && !node.destroyed && this.state !== "failed";
    this.state = "closed";
    this.pending = 0;
    this.inbound.clear();
    this.acks.clear();
    this.cur = undefined;
    this.rxQueue = [];
    this.rxHead = 0;
    if (flushing) {
      // Like tcp_close: what was written still goes out (through the same conditions), then FIN.
      this.flush();
      this.outbound.push(FIN);
      node.once("close", () => this.network.detach(this));
    } else {
      this.release();
    }
  }

  // --- NetworkEndpoint ---

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
    if (this.isOpen) this.fail();
    else this.release();
  }

  // --- connection ---

  private adopt(node: net.Socket): void {
    this.node = node;
    const o = this.options;
    if (o.noDelay) node.setNoDelay(true);
    if (o.keepalive && o.keepalive.enable !== false) node.setKeepAlive(true, o.keepalive.idle ?? 0);
    node.on("connect", () => this.inbound.push(CONNECTED));
    node.on("data", (chunk: Buffer) => this.inbound.push(chunk));
    node.on("end", () => this.inbound.push(FIN));
    node.on("error", (err) => this.inbound.push(err));
  }

  private depart(item: Outgoing): void {
    if (item === SYN) {
      const o = this.options;
      this.adopt(net.connect({ host: o.address ?? o.host, port: Number(o.port ?? 0) }));
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
      if (this.state !== "connecting") return;
      this.state = "open";
      this.network.countConnect();
      this.setPending(CONNECT);
    } else if (item === FIN) {
      // lwip reports the disconnect only once the app has read what arrived before it.
      if (this.cur !== undefined || this.rxHead < this.rxQueue.length) this.peerClosed = true;
      else this.setPending(DISCONNECT);
    } else if (item instanceof Error) {
      this.fail();
    } else {
      this.receive(item);
    }
  }

  private receive(chunk: Buffer): void {
    this.network.countIn(chunk.length);
    const max = this.network.maxReadChunk;
    if (chunk.length <= max) this.rxQueue.push(chunk);
    else for (let at = 0; at < chunk.length; at += max) this.rxQueue.push(chunk.subarray(at, at + max));
    this.rxBytes += chunk.length;
    if (this.rxBytes >= this.network.receiveWindow && !this.pausedForWindow) {
      this.pausedForWindow = true;
      this.node?.pause();
    }
    this.setPending(RECEIVE);
  }

  private acknowledged(bytes: number): void {
    if (!this.isOpen) return;
    this.outstanding -= bytes;
    // lwip reports writable once everything written so far is acknowledged (didSend).
    if (this.outstanding === 0) this.setPending(SENT);
  }

  private fail(): void {
    if (!this.isOpen) return;
    this.setPending(ERROR);
  }

  /** Drops the connection and everything in flight, and forgets the socket (after failure or close()). */
  private release(): void {
    this.node?.destroy();
    this.inbound.clear();
    this.outbound.clear();
    this.acks.clear();
    this.network.detach(this);
  }

  // --- receive bookkeeping ---

  private drained(): void {
    const cur = this.cur as Buffer;
    this.cur = undefined;
    this.pos = 0;
    this.rxBytes -= cur.length;
    if (this.pausedForWindow && this.rxBytes < this.network.receiveWindow) {
      this.pausedForWindow = false;
      if (this.network.pathOpen) this.node?.resume();
    }
    if (this.rxHead < this.rxQueue.length) this.setPending(RECEIVE);
    else if (this.peerClosed) this.setPending(DISCONNECT);
  }

  private nextChunk(): Buffer | undefined {
    if (this.rxHead >= this.rxQueue.length) return undefined;
    const chunk = this.rxQueue[this.rxHead];
    this.rxQueue[this.rxHead++] = undefined;
    if (this.rxHead === this.rxQueue.length) {
      this.rxQueue.length = 0;
      this.rxHead = 0;
    }
    return chunk;
  }

  // --- send bookkeeping ---

  private reserve(bytes: number): void {
    const stage = this.stage;
    const want = this.stageLength + bytes;
    if (stage && want <= stage.length) return;
    const grown = Buffer.allocUnsafe(Math.max(512, want, stage ? stage.length * 2 : 0));
    if (stage) stage.copy(grown, 0, 0, this.stageLength);
    this.stage = grown;
  }

  private flush(): void {
    this.flushQueued = false;
    const n = this.stageLength;
    if (n === 0 || !this.stage) return;
    let out: Buffer;
    if (n < SMALL_FLUSH) {
      out = Buffer.allocUnsafe(n);
      this.stage.copy(out, 0, 0, n);
    } else {
      out = this.stage.subarray(0, n);
      this.stage = undefined;
    }
    this.stageLength = 0;
    this.outbound.push(out);
  }

  // --- message delivery (lwip posts a message to the machine; we use setImmediate) ---

  private setPending(bit: number): void {
    if (this.state === "closed") return;
    if (bit === DISCONNECT || bit === ERROR) {
      if (this.state === "failed") return;
      this.state = "failed";
      this.release();
    }
    this.pending |= bit;
    if (!this.serviceQueued) {
      this.serviceQueued = true;
      setImmediate(this.serviceNow);
    }
  }

  private service(): void {
    this.serviceQueued = false;
    const pending = this.pending;
    this.pending = 0;
    if (pending & CONNECT) this.notify(Socket.connected);
    if (pending & RECEIVE) this.deliverReadable();
    if (pending & SENT) this.notify(Socket.writable, Math.max(0, this.network.sendWindow - this.outstanding));
    if (pending & DISCONNECT) this.notify(Socket.disconnected);
    else if (pending & ERROR) this.notify(Socket.error);
  }

  private deliverReadable(): void {
    if (this.state === "closed") return;
    if (this.cur !== undefined) return;  // lwip waits until the current chunk is read
    const chunk = this.nextChunk();
    if (!chunk) return;
    this.cur = chunk;
    this.pos = 0;
    this.notify(Socket.readable, chunk.length);
    if (this.cur === chunk && (this.state as string) !== "closed") {
      this.network.unreadStalls++;
      if (!this.warnedUnread) {
        this.warnedUnread = true;
        this.device.traceSink(`socket: readable callback left ${chunk.length - this.pos} bytes unread; lwip delivers nothing more until they are read\n`);
      }
    }
  }

  private notify(message: number, value?: number): void {
    if (this.state === "closed") return;
    const callback = this.callback;
    if (typeof callback !== "function") return;
    this.device.call(callback, this, message, value);
  }
}

function byteLengthOf(d: unknown): number {
  if (typeof d === "string") return Buffer.byteLength(d, "utf8");
  if (typeof d === "number") return 1;
  if (ArrayBuffer.isView(d)) return d.byteLength;
  if (d instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && d instanceof SharedArrayBuffer)) return d.byteLength;
  throw new Error("unsupported type for write");
}

/** Accepts TCP connections; its callback runs once per waiting connection, which `new Socket({listener})` takes. */
export class Listener {
  callback: ((this: Listener) => void) | undefined = undefined;

  private readonly device: Device;
  private readonly server: net.Server;
  private waiting: net.Socket[] = [];
  private closed = false;
  private serviceQueued = false;

  /** `address` defaults to 127.0.0.1: the simulator has no LAN. */
  constructor(options: { port: number; address?: string }) {
    this.device = currentDevice();
    this.server = net.createServer({ pauseOnConnect: true }, (node) => this.incoming(node));
    this.server.on("error", (err) => this.device.traceSink(`Listener: ${err.message}\n`));
    this.server.listen(Number(options?.port ?? 0), options?.address ?? "127.0.0.1");
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const node of this.waiting) node.destroy();
    this.waiting = [];
  }

  /** Used by `new Socket({listener})`. */
  take(): net.Socket | undefined {
    return this.waiting.shift();
  }

  private incoming(node: net.Socket): void {
    node.on("error", () => { /* reported through the Socket once accepted */ });
    // lwip keeps at most MODDEF_SOCKET_LISTENERQUEUE (4) unaccepted connections and aborts the rest.
    if (this.closed || this.waiting.length >= 4) {
      node.resetAndDestroy();
      return;
    }
    this.waiting.push(node);
    if (!this.serviceQueued) {
      this.serviceQueued = true;
      setImmediate(() => this.service());
    }
  }

  private service(): void {
    this.serviceQueued = false;
    for (let n = this.waiting.length; n > 0 && !this.closed; n--) {
      const callback = this.callback;
      if (typeof callback !== "function") return;
      this.device.run(() => callback.call(this));
    }
  }
}

export default { Socket, Listener };
