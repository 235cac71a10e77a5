// Network conditions of one simulated device: fault injection and traffic counters obeyed by every
// connection of the device (sim/board/connection.ts, under both socket stand-ins). Timed effects run on the device clock.
import type { BoardNetwork, Clock } from "../../hosts/node/board.ts";

/** What a connection exposes to its device's network; implemented by `SimulatedConnection` (connection.ts). */
export interface NetworkEndpoint {
  /** True until the app closes it or it fails (-1/-2 pending or delivered). */
  readonly isOpen: boolean;
  /** The path opened or closed (link or blackhole changed): hold or resume traffic. */
  pathChanged(): void;
  /** A TCP reset from the network: the app sees -2. */
  reset(): void;
}

/** What changed, for `onChange` listeners (a UI redraws its counters). */
export type NetworkEvent = "open" | "connect" | "close" | "in" | "out" | "link" | "blackhole" | "kill";

export class NetworkConditions implements BoardNetwork {
  /** Bytes a socket may have written and not yet had acknowledged (lwip TCP_SND_BUF); `write()` reports what is left. */
  sendWindow = 65536;
  /** Received bytes a socket buffers unread before the peer is made to wait (lwip TCP_WND). */
  receiveWindow = 65536;
  /** Largest chunk per readable message (a TCP segment on a board); Infinity: as Node receives it. */
  maxReadChunk = Infinity;
  /** Segment size (lwip TCP_MSS): Nagle holds less than this while sent data is unacknowledged. */
  mss = 1460;
  /** The device's delayed ACK: lwip acknowledges every second segment at once, else with its next data or on
   *  tcp_fasttmr, which runs every this many ms (TCP_TMR_INTERVAL). 0: every segment is acknowledged at once. */
  ackTimerMs = 250;
  /** The peer's delayed ACK for bytes it does not answer (a header without its packet's body, say): Linux's
   *  minimum is 40 ms. It acknowledges at once with data of its own or after more than a segment. 0: at once. */
  peerAckDelayMs = 40;
  /** The peer's Nagle (on unless it sets TCP_NODELAY; mosquitto's default): while the device has not acknowledged
   *  what the peer sent, it holds new small writes back. */
  peerNagle = true;
  /** One-way delay added in each direction (connect takes two of them, like SYN and SYN-ACK). */
  latencyMs = 0;
  /** How long a connection attempt takes to fail with -2 while the link is down. */
  linkDownFailMs = 10;

  /** Bytes delivered to the device's sockets. */
  bytesIn = 0;
  /** Bytes sent by the device's sockets onto the wire. */
  bytesOut = 0;
  /** Connections established (connected message queued). */
  connects = 0;
  /** Connection attempts (sockets constructed to connect, not accepted ones). */
  connectAttempts = 0;
  /** Readable callbacks that returned with bytes unread (on lwip that stalls the socket until they are read). */
  unreadStalls = 0;

  /** Sees each chunk the device's connections send, in order, as it leaves the device's TCP stack (a packet
   *  sniffer on the device's side of the link; the simulator matches readings with it). */
  sniffer: ((endpoint: NetworkEndpoint, bytes: Uint8Array) => void) | undefined = undefined;

  /** Every socket that still holds a connection (open, or closed by the app and still flushing). */
  readonly endpoints = new Set<NetworkEndpoint>();

  private link = true;
  private hole = false;
  private listeners: ((event: NetworkEvent, network: NetworkConditions) => void)[] = [];

  constructor(readonly clock: Clock) {}

  /** Sockets open from the app's point of view. */
  get openSockets(): number {
    let n = 0;
    for (const e of this.endpoints) if (e.isOpen) n++;
    return n;
  }

  /** False while the radio link is down (set by `setLink`). */
  get linkUp(): boolean { return this.link; }

  /** True while traffic is silently swallowed (set by `blackhole`). */
  get blackholed(): boolean { return this.hole; }

  /** True when packets can flow: link up and no blackhole. */
  get pathOpen(): boolean { return this.link && !this.hole; }

  /** Link down: new connections fail with -2 after `linkDownFailMs`; open ones are frozen until it returns. */
  setLink(up: boolean): void {
    if (this.link === up) return;
    this.link = up;
    this.pathChangedForAll();
    this.emit("link");
  }

  /** Blackhole: nothing passes either way, nothing is acknowledged, no error: connections look open.
   *  Held data flows again if it is lifted (as TCP retransmission would deliver it), so streams never corrupt. */
  blackhole(on = true): void {
    if (this.hole === on) return;
    this.hole = on;
    this.pathChangedForAll();
    this.emit("blackhole");
  }

  /** Resets every connection of the device, like a TCP RST: each open socket gets -2. */
  killConnections(): void {
    for (const e of [...this.endpoints]) e.reset();
    this.emit("kill");
  }

  /** lwip on an ESP8266: a 2 x 1460-byte send buffer, 4-segment receive window, 1460-byte segments. */
  esp8266(): this {
    this.sendWindow = 2 * 1460;
    this.receiveWindow = 4 * 1460;
    this.maxReadChunk = 1460;
    return this;
  }

  /** ESP-IDF's default lwip settings on an ESP32: 5760-byte send buffer and window, 1440-byte segments. */
  esp32(): this {
    this.sendWindow = 5760;
    this.receiveWindow = 5760;
    this.maxReadChunk = 1440;
    this.mss = 1440;
    return this;
  }

  /** Calls `listener` after each counter or state change; returns a function that unsubscribes it. */
  onChange(listener: (event: NetworkEvent, network: NetworkConditions) => void): () => void {
    this.listeners.push(listener);
    return () => { this.listeners = this.listeners.filter((l) => l !== listener); };
  }

  // --- used by the socket module ---

  attach(endpoint: NetworkEndpoint): void {
    this.endpoints.add(endpoint);
    this.emit("open");
  }

  detach(endpoint: NetworkEndpoint): void {
    if (this.endpoints.delete(endpoint)) this.emit("close");
  }

  countIn(bytes: number): void {
    this.bytesIn += bytes;
    if (this.listeners.length) this.emit("in");
  }

  countOut(bytes: number): void {
    this.bytesOut += bytes;
    if (this.listeners.length) this.emit("out");
  }

  countConnect(): void {
    this.connects++;
    this.emit("connect");
  }

  private pathChangedForAll(): void {
    for (const e of [...this.endpoints]) e.pathChanged();
  }

  private emit(event: NetworkEvent): void {
    for (const l of this.listeners) l(event, this);
  }
}

/** One direction of a connection under a device's conditions: items wait `latencyMs`, stay in order,
 *  and pass only while the path is open. With no latency and an open path, delivery is synchronous. */
export class DelayLine<T> {
  private items: T[] = [];
  private due: number[] = [];
  private timer: unknown = undefined;

  constructor(private readonly network: NetworkConditions, private readonly deliver: (item: T) => void) {}

  get length(): number { return this.items.length; }

  push(item: T): void {
    const network = this.network;
    if (this.items.length === 0 && network.latencyMs <= 0 && network.pathOpen) {
      this.deliver(item);
      return;
    }
    const now = network.clock.now();
    const last = this.due.length ? this.due[this.due.length - 1] : now;
    this.items.push(item);
    this.due.push(Math.max(last, now + Math.max(0, network.latencyMs)));
    if (this.items.length === 1) this.pump();
  }

  /** Releases every item that is due while the path is open; call again when the path reopens. */
  pump(): void {
    const clock = this.network.clock;
    if (this.timer !== undefined) {
      clock.cancel(this.timer);
      this.timer = undefined;
    }
    while (this.items.length && this.network.pathOpen) {
      const wait = this.due[0] - clock.now();
      if (wait > 0) {
        this.timer = clock.schedule(() => { this.timer = undefined; this.pump(); }, wait);
        return;
      }
      this.due.shift();
      this.deliver(this.items.shift() as T);
    }
  }

  /** Drops everything still in flight. */
  clear(): void {
    this.items = [];
    this.due = [];
    if (this.timer !== undefined) this.network.clock.cancel(this.timer);
    this.timer = undefined;
  }
}
