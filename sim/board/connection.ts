// One simulated TCP connection under a device's NetworkConditions, what the `socket` and `embedded:io/socket/tcp`
// stand-ins drive: node:net socket, delay lines, windows, counters, close/FIN, and when segments leave and are
// acknowledged: the device's Nagle and delayed ACK as lwip does them, the peer's as a Linux broker does them.
import net from "node:net";
import type { BoardConnection, Clock, ConnectionEvents } from "../../hosts/node/board.ts";
import { DelayLine, type NetworkConditions, type NetworkEndpoint } from "./network.ts";

// Markers that travel through the delay lines with the data, so order and latency apply to them too.
const SYN = Symbol("syn");          // outgoing: start connecting
const FIN = Symbol("fin");          // outgoing: close after the data; incoming: the peer closed
const CONNECTED = Symbol("connected");
// A number going out is the device's ACK: how many bytes it has received in all.
type Outgoing = Buffer | number | typeof SYN | typeof FIN;
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

  // Byte counts below are totals since the connection opened (TCP sequence numbers, in effect).
  // Device -> peer: sent by the device's stack; acknowledged by the peer, as the device has heard.
  private sent = 0;
  private ackedOut = 0;
  /** Nagle held staged bytes back; an ACK sends them (lwip's tcp_input ends with tcp_output). */
  private holding = false;
  // The peer's side of our data: received (in its kernel), acknowledged (ACK sent back).
  private atPeer = 0;
  private peerAcked = 0;
  private peerAckTimer: unknown = undefined;
  // Peer -> device: let go by the peer, received by the device, acknowledged by the device (as the peer has heard).
  private peerSent = 0;
  private received = 0;
  private ackedIn = 0;
  private heardAck = 0;
  /** Segments received since the device's last ACK (lwip acknowledges every second one at once). */
  private unackedSegments = 0;
  /** What the peer's Nagle holds back while its earlier bytes are unacknowledged. */
  private held: Buffer[] = [];
  private heldBytes = 0;

  private readonly inbound: DelayLine<Incoming>;
  private readonly outbound: DelayLine<Outgoing>;
  private readonly acks: DelayLine<number>;
  // Lengths of the writes Node holds, oldest first: one bound callback for all of them instead of a closure each.
  private readonly inNode: number[] = [];
  private readonly written = (err?: Error | null): void => {
    const bytes = this.inNode.shift() as number;
    if (err) return;
    this.atPeer += bytes;
    const network = this.network;
    if (network.peerAckDelayMs <= 0 || this.atPeer - this.peerAcked > network.mss) this.peerAck();
    else if (this.peerAckTimer === undefined) this.peerAckTimer = network.clock.schedule(this.peerAckLater, network.peerAckDelayMs);
  };
  private readonly peerAckLater = (): void => { this.peerAckTimer = undefined; this.peerAck(); };

  constructor(private readonly network: NetworkConditions, private readonly owner: ConnectionEvents) {
    this.inbound = new DelayLine(this.network, (item) => this.arrive(item));
    this.outbound = new DelayLine(this.network, (item) => this.depart(item));
    this.acks = new DelayLine(this.network, (total) => this.acknowledged(total));
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

  /**
   * Sends the staged writes as one buffer (lwip's tcp_output: writes of one turn share a segment). With Nagle on
   * (no noDelay), while sent bytes are unacknowledged only whole segments leave; the rest waits for the ACK.
   * `force`: everything goes (a closing socket's FIN overrides Nagle).
   */
  flush(force = false): void {
    const n = this.stageLength;
    const stage = this.stage;
    if (n === 0 || !stage) return;
    let send = n;
    if (!this.noDelay && !force && (this.sent > this.ackedOut || n > this.network.mss)) send = n - (n % this.network.mss);
    this.holding = send < n;
    if (send === 0) return;
    let out: Buffer;
    if (send < SMALL_FLUSH || send < n) {
      out = Buffer.allocUnsafe(send);
      stage.copy(out, 0, 0, send);
      if (send < n) stage.copy(stage, 0, send, n);
    } else {
      out = stage.subarray(0, n);
      this.stage = undefined;
    }
    this.stageLength = n - send;
    this.sent += send;
    if (this.received > this.ackedIn) this.ackIn();  // the ACK rides on the data
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
      this.flush(true);
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
    this.stopTimers();
    this.held = [];
    this.heldBytes = 0;
    this.network.detach(this);
  }

  // --- acknowledgements ---

  /** The peer acknowledges all it has received (at once, with its data, or when its delayed ACK fires). */
  private peerAck(): void {
    if (this.peerAckTimer !== undefined) {
      this.network.clock.cancel(this.peerAckTimer);
      this.peerAckTimer = undefined;
    }
    if (this.atPeer === this.peerAcked) return;
    this.peerAcked = this.atPeer;
    this.acks.push(this.atPeer);
  }

  /** The peer's ACK reached the device: the window frees, and bytes Nagle held go out. */
  private acknowledged(total: number): void {
    const bytes = total - this.ackedOut;
    if (bytes <= 0) return;
    this.ackedOut = total;
    this.owner.acknowledged(bytes);
    if (this.holding) this.flush();
  }

  /** The device acknowledges all it has received: alone, or ahead of its data in the same segment. */
  ackIn(): void {
    this.unackedSegments = 0;
    tickerOf(this.network.clock).due.delete(this);
    if (this.received === this.ackedIn) return;
    this.ackedIn = this.received;
    this.outbound.push(this.received);
  }

  /** The device's ACK reached the peer: what its Nagle held goes out once all it sent is acknowledged. */
  private peerHeard(total: number): void {
    if (total > this.heardAck) this.heardAck = total;
    if (this.heldBytes > 0 && this.heardAck === this.peerSent) this.releaseHeld();
  }

  /** Data from the peer's application (a chunk Node read): its Nagle may hold it; its ACK for our bytes rides on
   *  it, and comes after the data, as lwip's tcp_input reads a segment's data before it sends what the ACK frees. */
  private fromPeer(chunk: Buffer): void {
    if (this.network.peerNagle && (this.heldBytes > 0 || this.heardAck < this.peerSent)) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.heldBytes >= this.network.mss) this.releaseHeld();  // a full segment goes regardless
    } else {
      this.peerSent += chunk.length;
      this.inbound.push(chunk);
    }
    this.peerAck();
  }

  private releaseHeld(): void {
    const chunk = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    this.peerSent += chunk.length;
    this.inbound.push(chunk);
  }

  private stopTimers(): void {
    if (this.peerAckTimer !== undefined) this.network.clock.cancel(this.peerAckTimer);
    this.peerAckTimer = undefined;
    tickerOf(this.network.clock).due.delete(this);
  }

  // --- the wire ---

  private adopt(node: net.Socket): void {
    this.node = node;
    node.setNoDelay(true);  // the device's Nagle is modelled here; the host's own would come on top
    if (this.keepAliveMs !== undefined) node.setKeepAlive(true, this.keepAliveMs);
    node.on("connect", () => this.inbound.push(CONNECTED));
    node.on("data", (chunk: Buffer) => this.fromPeer(chunk));
    node.on("end", () => {
      if (this.heldBytes > 0) this.releaseHeld();  // the peer's close sends what Nagle held first
      this.inbound.push(FIN);
    });
    node.on("error", (err) => this.inbound.push(err));
  }

  private depart(item: Outgoing): void {
    if (typeof item === "number") {
      this.peerHeard(item);
      return;
    }
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
      this.received += item.length;
      // lwip's delayed ACK: every second segment at once, else on outgoing data or the next fast-timer tick.
      if (++this.unackedSegments >= 2 || this.network.ackTimerMs <= 0) this.ackIn();
      else delayedAck(this, this.network);
      this.rxBytes += item.length;
      if (this.rxBytes >= this.network.receiveWindow && !this.pausedForWindow) {
        this.pausedForWindow = true;
        this.node?.pause();
      }
      owner.received(item);
    }
  }
}

// lwip sends delayed ACKs from tcp_fasttmr, every TCP_TMR_INTERVAL (250 ms): one ticker per clock serves every
// connection waiting, as lwip's one timer serves every pcb.
interface Ticker { readonly due: Set<SimulatedConnection>; scheduled: boolean }
const tickers = new Map<Clock, Ticker>();

function tickerOf(clock: Clock): Ticker {
  let t = tickers.get(clock);
  if (!t) tickers.set(clock, t = { due: new Set(), scheduled: false });
  return t;
}

function delayedAck(connection: SimulatedConnection, network: NetworkConditions): void {
  const ticker = tickerOf(network.clock);
  ticker.due.add(connection);
  if (ticker.scheduled) return;
  ticker.scheduled = true;
  const clock = network.clock, period = network.ackTimerMs;
  clock.schedule(() => {
    ticker.scheduled = false;
    const due = [...ticker.due];
    ticker.due.clear();
    for (const c of due) c.ackIn();
  }, period - (clock.now() % period));
}
