// One simulated TCP connection under a device's NetworkConditions, what the `socket` and `embedded:io/socket/tcp`
// stand-ins drive: node:net socket, delay lines, windows, counters, close/FIN.
import net from "node:net";
import type { BoardConnection, ConnectionEvents } from "../../hosts/node/board.ts";
import { DelayLine, type NetworkConditions, type NetworkEndpoint } from "./network.ts";

// Markers that travel through the delay lines with the data, so order and latency apply to them too.
const SYN = Symbol("syn");          // outgoing: start connecting
const FIN = Symbol("fin");          // outgoing: close after the data; incoming: the peer closed
const CONNECTED = Symbol("connected");
type Outgoing = Buffer | typeof SYN | typeof FIN;
type Incoming = Buffer | typeof FIN | typeof CONNECTED | Error;

// Copies below this size go into Node's pooled slab; larger stages are handed over whole.
const SMALL_FLUSH = 4096;
const MIN_STAGE = 512;

export class SimulatedConnection implements BoardConnection, NetworkEndpoint {
  node: net.Socket | undefined = undefined;

  /** Received bytes not yet read by the app (the receive window). */
  rxBytes = 0;
  private pausedForWindow = false;

  /** Written and not yet acknowledged (the send window). */
  outstanding = 0;
  /** This turn's writes, copied so callers may reuse their buffers; `stageLength` bytes are used. */
  stage: Buffer | undefined = undefined;
  stageLength = 0;
  private lastBuffer: ArrayBufferLike | undefined = undefined;
  private lastView: Uint8Array | undefined = undefined;

  private host = "";
  private port = 0;
  private noDelay = false;
  private keepAliveMs: number | undefined = undefined;

  private readonly inbound: DelayLine<Incoming>;
  private readonly outbound: DelayLine<Outgoing>;
  private readonly acks: DelayLine<number>;
  // Lengths of the writes Node holds, oldest first: one bound callback for all of them instead of a closure each.
  private readonly inNode: number[] = [];
  private readonly written = (err?: Error | null): void => {
    const bytes = this.inNode.shift() as number;
    if (!err) this.acks.push(bytes);
  };

  constructor(private readonly network: NetworkConditions, private readonly owner: ConnectionEvents) {
    this.inbound = new DelayLine(this.network, (item) => this.arrive(item));
    this.outbound = new DelayLine(this.network, (item) => this.depart(item));
    this.acks = new DelayLine(this.network, (bytes) => owner.acknowledged(bytes));
  }

  /** Starts connecting (SYN after the latency); with the link down the attempt fails after `linkDownFailMs`. */
  connect(host: string, port: number, noDelay: boolean, keepAliveMs: number | undefined): void {
    this.host = host;
    this.port = port;
    this.noDelay = noDelay;
    this.keepAliveMs = keepAliveMs;
    this.network.connectAttempts++;
    this.network.attach(this);
    if (!this.network.linkUp) {
      // No route while the radio is down: the attempt fails shortly, as a board's stack reports it.
      this.network.clock.schedule(() => this.owner.failed(), this.network.linkDownFailMs);
      return;
    }
    this.outbound.push(SYN);
  }

  /** Takes over a connection a listener accepted; it reports connected like a dialled one. */
  accept(node: net.Socket, noDelay: boolean, keepAliveMs: number | undefined): void {
    this.noDelay = noDelay;
    this.keepAliveMs = keepAliveMs;
    this.adopt(node);
    this.network.attach(this);
    this.inbound.push(CONNECTED);  // lwip sets kPendingConnect on accepted sockets too
    if (!this.network.pathOpen) node.pause();
    else node.resume();
  }

  /** The peer's address without the IPv4-mapped prefix. */
  get remoteAddress(): string | undefined {
    const ip = this.node?.remoteAddress;
    return ip?.startsWith("::ffff:") ? ip.slice(7) : ip;
  }

  get remotePort(): number | undefined { return this.node?.remotePort; }

  // --- NetworkEndpoint ---

  get isOpen(): boolean { return this.owner.isOpen(); }

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
    if (this.owner.isOpen()) this.owner.failed();
    else this.release();
  }

  // --- receive side ---

  /** The app read `n` buffered bytes; at a chunk's end the receive window may reopen. */
  consumed(n: number, chunkEnd: boolean): void {
    this.rxBytes -= n;
    if (chunkEnd && this.pausedForWindow && this.rxBytes < this.network.receiveWindow) {
      this.pausedForWindow = false;
      if (this.network.pathOpen) this.node?.resume();
    }
  }

  // --- send side ---

  /** Free space in the send window (negative if the window shrank under what is outstanding). */
  get free(): number { return this.network.sendWindow - this.outstanding; }

  /** A byte view of a buffer argument; the view of the last ArrayBuffer is kept (callers reuse one staging
   *  buffer; on a resizable buffer the view tracks its length, so it stays right after resize()). */
  bytesOf(data: ArrayBufferLike | ArrayBufferView): Uint8Array {
    if (data instanceof Uint8Array) return data;
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (data !== this.lastBuffer) {
      this.lastBuffer = data;
      this.lastView = new Uint8Array(data);
    }
    return this.lastView as Uint8Array;
  }

  /** Stages bytes to send and counts them outstanding; the caller has checked the window. */
  put(bytes: Uint8Array): void {
    const n = bytes.byteLength;
    this.reserve(n);
    (this.stage as Buffer).set(bytes, this.stageLength);
    this.stageLength += n;
    this.outstanding += n;
  }

  putByte(value: number): void {
    this.reserve(1);
    (this.stage as Buffer)[this.stageLength++] = value & 255;
    this.outstanding += 1;
  }

  /** Stages a string as UTF-8; `byteLength` is its encoded length, already measured by the caller. */
  putString(text: string, byteLength: number): void {
    this.reserve(byteLength);
    this.stageLength += (this.stage as Buffer).write(text, this.stageLength, "utf8");
    this.outstanding += byteLength;
  }

  /** Hands the staged writes to the outgoing delay line as one buffer (lwip combines writes of one turn too). */
  flush(): void {
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
    this.network.sniffer?.(this, out);
    this.outbound.push(out);
  }

  private reserve(bytes: number): void {
    const stage = this.stage;
    const want = this.stageLength + bytes;
    if (stage && want <= stage.length) return;
    const grown = Buffer.allocUnsafe(Math.max(MIN_STAGE, want, stage ? stage.length * 2 : 0));
    if (stage) stage.copy(grown, 0, 0, this.stageLength);
    this.stage = grown;
  }

  // --- ending ---

  /** The app closed: nothing more arrives; with `flushing`, written data still goes out, then FIN. */
  close(flushing: boolean): void {
    this.inbound.clear();
    this.acks.clear();
    const node = this.node;
    if (flushing && node !== undefined && !node.destroyed) {
      // Like tcp_close: what was written still goes out (through the same conditions), then FIN.
      this.flush();
      this.outbound.push(FIN);
      node.once("close", () => this.network.detach(this));
    } else {
      this.release();
    }
  }

  /** Drops the connection and everything in flight, and forgets it (after failure or close). */
  release(): void {
    this.node?.destroy();
    this.inbound.clear();
    this.outbound.clear();
    this.acks.clear();
    this.network.detach(this);
  }

  // --- the wire ---

  private adopt(node: net.Socket): void {
    this.node = node;
    if (this.noDelay) node.setNoDelay(true);
    if (this.keepAliveMs !== undefined) node.setKeepAlive(true, this.keepAliveMs);
    node.on("connect", () => this.inbound.push(CONNECTED));
    node.on("data", (chunk: Buffer) => this.inbound.push(chunk));
    node.on("end", () => this.inbound.push(FIN));
    node.on("error", (err) => this.inbound.push(err));
  }

  private depart(item: Outgoing): void {
    if (item === SYN) {
      this.adopt(net.connect({ host: this.host, port: this.port }));
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
    const owner = this.owner;
    if (!owner.isOpen()) return;
    if (item === CONNECTED) {
      owner.connected();
    } else if (item === FIN) {
      owner.ended();
    } else if (item instanceof Error) {
      owner.failed();
    } else {
      this.network.countIn(item.length);
      this.rxBytes += item.length;
      if (this.rxBytes >= this.network.receiveWindow && !this.pausedForWindow) {
        this.pausedForWindow = true;
        this.node?.pause();
      }
      owner.received(item);
    }
  }
}
