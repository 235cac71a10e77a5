// Node implementation of Moddable's `socket` module (TCP Socket and Listener) over node:net, following
// documentation/network/network.md and the lwip port's behaviour; every socket obeys its device's NetworkConditions.
import net from "node:net";
import { currentBoard, type Board, type BoardConnection, type BoardNetwork } from "../board.ts";
import { SocketMessages } from "../../shared/moddable-constants.ts";

// Pending messages, delivered in lwip's order (socketClearPending): connect, receive, sent, disconnect, error.
const CONNECT = 1, RECEIVE = 2, SENT = 4, DISCONNECT = 8, ERROR = 16;

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

export class Socket extends SocketMessages {
  callback: Callback | undefined = undefined;

  private readonly board: Board;
  private readonly network: BoardNetwork;
  /** The connection under the device's network conditions (node socket, delay lines, windows). */
  private readonly connection: BoardConnection;
  /** connecting -> open -> failed (-1/-2 queued); closed once the app calls close(). */
  private state: "connecting" | "open" | "failed" | "closed" = "connecting";
  private pending = 0;
  private serviceQueued = false;

  // Receive side: the chunk being read (lwip's current pbuf) and the ones behind it.
  private cur: Buffer | undefined = undefined;
  private pos = 0;
  private rxQueue: (Buffer | undefined)[] = [];
  private rxHead = 0;
  private peerClosed = false;
  private warnedUnread = false;

  // Send side: writes are staged in the connection and flushed once per tick.
  private flushQueued = false;

  // Bound once: setImmediate per batch then allocates only its own Immediate.
  private readonly serviceNow = (): void => this.service();
  private readonly flushNow = (): void => this.flush();

  constructor(options: SocketOptions) {
    super();
    if (options === null || typeof options !== "object") throw new Error("invalid dictionary");
    this.board = currentBoard();
    this.connection = this.board.openConnection({
      isOpen: () => this.isOpen,
      connected: () => this.connected(),
      received: (chunk) => this.receive(chunk),
      ended: () => this.ended(),
      failed: () => this.fail(),
      acknowledged: (bytes) => this.acknowledged(bytes),
    });
    this.network = this.board.network;
    const noDelay = !!options.noDelay;
    const keepalive = options.keepalive;
    const keepAliveMs = keepalive && keepalive.enable !== false ? keepalive.idle ?? 0 : undefined;

    if (options.listener !== undefined) {
      const accepted = options.listener.take();
      if (!accepted) throw new Error("no socket available from listener");
      this.connection.accept(accepted, noDelay, keepAliveMs);
      return;
    }

    const kind = options.kind ?? "TCP";
    if (kind === "UDP" || kind === "RAW") throw new Error(`${kind} sockets are not simulated`);
    if (kind !== "TCP") throw new Error("invalid socket kind");
    if (options.host === undefined && options.address === undefined) throw new Error("invalid dictionary");
    if (options.address !== undefined && net.isIP(String(options.address)) === 0) throw new Error("invalid IP address");
    const port = Number(options.port);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error("invalid port");

    this.connection.connect(options.address ?? (options.host as string), port, noDelay, keepAliveMs);
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
      this.board.traceSink("write on closed socket\n");
      return;
    }
    const connection = this.connection;
    const free = Math.max(0, connection.free);
    if (count === 0) return free;

    let needed = 0;
    for (let i = 0; i < count; i++) needed += byteLengthOf(data[i]);
    if (needed > free) throw new Error("can't write all data");
    if (needed === 0) return;

    // Copy now: the caller reuses its buffers immediately (and Node would keep a reference).
    for (let i = 0; i < count; i++) {
      const d = data[i];
      if (typeof d === "string") connection.putString(d, Buffer.byteLength(d, "utf8"));
      else if (typeof d === "number") connection.putByte(d);
      else connection.put(connection.bytesOf(d as ArrayBufferLike | ArrayBufferView));
    }
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushNow);
    }
  }

  get(what: string): string | undefined {
    if (what !== "REMOTE_IP" || this.state === "closed") return undefined;
    return this.connection.remoteAddress;
  }

  /** Frees the socket at once; written data still goes out, then the connection closes. No callback follows. */
  close(): void {
    if (this.state === "closed") return;
    const flushing = this.state !== "failed";
    this.state = "closed";
    this.pending = 0;
    this.cur = undefined;
    this.rxQueue = [];
    this.rxHead = 0;
    this.connection.close(flushing);
  }

  // --- what the connection reports ---

  private connected(): void {
    if (this.state !== "connecting") return;
    this.state = "open";
    this.network.countConnect();
    this.setPending(CONNECT);
  }

  private ended(): void {
    // lwip reports the disconnect only once the app has read what arrived before it.
    if (this.cur !== undefined || this.rxHead < this.rxQueue.length) this.peerClosed = true;
    else this.setPending(DISCONNECT);
  }

  private receive(chunk: Buffer): void {
    const max = this.network.maxReadChunk;
    if (chunk.length <= max) this.rxQueue.push(chunk);
    else for (let at = 0; at < chunk.length; at += max) this.rxQueue.push(chunk.subarray(at, at + max));
    this.setPending(RECEIVE);
  }

  private acknowledged(bytes: number): void {
    if (!this.isOpen) return;
    const connection = this.connection;
    connection.outstanding -= bytes;
    // lwip reports writable once everything written so far is acknowledged (didSend).
    if (connection.outstanding === 0) this.setPending(SENT);
  }

  private fail(): void {
    if (!this.isOpen) return;
    this.setPending(ERROR);
  }

  // --- receive bookkeeping ---

  private drained(): void {
    const cur = this.cur as Buffer;
    this.cur = undefined;
    this.pos = 0;
    this.connection.consumed(cur.length, true);
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

  private flush(): void {
    this.flushQueued = false;
    this.connection.flush();
  }

  // --- message delivery (lwip posts a message to the machine; we use setImmediate) ---

  private setPending(bit: number): void {
    if (this.state === "closed") return;
    if (bit === DISCONNECT || bit === ERROR) {
      if (this.state === "failed") return;
      this.state = "failed";
      this.connection.release();
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
    if (pending & SENT) this.notify(Socket.writable, Math.max(0, this.connection.free));
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
        this.board.traceSink(`socket: readable callback left ${chunk.length - this.pos} bytes unread; lwip delivers nothing more until they are read\n`);
      }
    }
  }

  private notify(message: number, value?: number): void {
    if (this.state === "closed") return;
    const callback = this.callback;
    if (typeof callback !== "function") return;
    this.board.call(callback, this, message, value);
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

  private readonly board: Board;
  private readonly server: net.Server;
  private waiting: net.Socket[] = [];
  private closed = false;
  private serviceQueued = false;

  /** `address` defaults to 127.0.0.1: the simulator has no LAN. */
  constructor(options: { port: number; address?: string }) {
    this.board = currentBoard();
    this.server = net.createServer({ pauseOnConnect: true }, (node) => this.incoming(node));
    this.server.on("error", (err) => this.board.traceSink(`Listener: ${err.message}\n`));
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
      this.board.run(() => callback.call(this));
    }
  }
}

export default { Socket, Listener };
