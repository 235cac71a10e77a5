// The XS host's TCP connections, on real node:net sockets: what the native `socket` (lwIP or lin) and
// `embedded:io/socket/tcp` code does below JavaScript — resolving, segmenting what arrives (a pbuf per 1460
// bytes on lwIP, a 1024-byte recv on lin), holding segments until XS has read the ones it has (lwIP's receive
// window), acknowledgements riding on the peer's data when it comes soon (else alone, coalesced), and the end
// reported only after everything received was read.
import { lookup } from "node:dns";
import { connect, isIP, type Socket as NetSocket } from "node:net";
import type { Board } from "../node/board.ts";
import { Delivery, u32, type ConnectRequest } from "./protocol.ts";

export interface ConnectionsOwner {
  readonly platform: "esp8266" | "lin";
  /** A refused connection is reported as connected, then writes fail (lin's behaviour). */
  readonly refusedConnects: boolean;
  /** Largest segment per data delivery; default 1460 (lwIP) or 1024 (lin's recv buffer). */
  readonly segmentSize: number | undefined;
  /** How long an acknowledgement waits for data from the peer to ride on (TCP's delayed ACK). */
  readonly ackDelayMs: number;
  /** The simulated board: with airwaves, an ESP8266 has no route while it has no IP. */
  readonly device: Board;
  deliver(op: number, id: number, payload?: Uint8Array): void;
  trace(text: string): void;
}

/** What lin's poll loop takes to notice the disconnect after a failed recv (its 20 ms service timer). */
const linPollMs = 20;
/** Received bytes held in Node before the socket is paused (a receive window). */
const highWater = 64 * 1024;

class Connection {
  node: NetSocket | undefined = undefined;
  connected = false;
  /** Closed by XS: nothing more is delivered. */
  closed = false;
  /** Segments waiting for XS to read the ones before (at most `credits` are in XS at once). */
  readonly queue: Uint8Array[] = [];
  queued = 0;
  inXS = 0;
  /** The end to report once every segment was read: Disconnected (peer FIN) or Error. */
  end: number | undefined = undefined;
  ended = false;
  acked = 0;
  ackTimer: NodeJS.Timeout | undefined = undefined;
  /** Written while the name was still being resolved (lwIP queues writes on a connecting pcb). */
  early: Uint8Array[] | undefined = undefined;

  constructor(readonly id: number, readonly kind: "socket" | "tcp", readonly credits: number, readonly segment: number) {}
}

export class Connections {
  private readonly all = new Map<number, Connection>();

  constructor(private readonly owner: ConnectionsOwner) {}

  open(id: number, request: ConnectRequest): void {
    const lin = this.owner.platform === "lin";
    const c = new Connection(id, request.kind, request.kind === "tcp" ? 4 : 1, this.owner.segmentSize ?? (lin && request.kind === "socket" ? 1024 : 1460));
    this.all.set(id, c);
    const device = this.owner.device;
    if (!lin && device.radio.air && !device.network.linkUp) {
      // No IP yet: the stack has no route and the attempt fails, as a board reports it.
      setTimeout(() => this.fail(c, false), device.network.linkDownFailMs);
      return;
    }
    const target = request.address ?? request.host ?? "";
    if (isIP(target)) return this.dial(c, target, request.port);
    lookup(target, { family: 4 }, (error, address) => {
      if (c.closed) return;
      if (!error) return this.dial(c, address, request.port);
      // lwIP reports a failed lookup as an error; lin's resolver callback then does nothing at all.
      if (lin) this.owner.trace(`xs host: lin could not resolve "${target}"; its socket stays silent\n`);
      else this.fail(c, false);
    });
  }

  write(id: number, bytes: Uint8Array): void {
    const c = this.all.get(id);
    if (!c || c.ended) return;
    const node = c.node;
    if (!node) {
      (c.early ??= []).push(bytes);
      return;
    }
    if (node.destroyed) return;
    const n = bytes.length;
    node.write(bytes, (error) => {
      if (error || c.closed) return;
      c.acked += n;
      c.ackTimer ??= setTimeout(() => this.acknowledge(c), this.owner.ackDelayMs);
    });
  }

  /** XS read the oldest segment it holds. */
  consumed(id: number): void {
    const c = this.all.get(id);
    if (!c) return;
    c.inXS--;
    this.pump(c);
  }

  close(id: number): void {
    const c = this.all.get(id);
    if (!c) return;
    c.closed = true;
    this.clearAck(c);
    this.all.delete(id);
    const node = c.node;
    if (node && !node.destroyed) {
      // What was written still goes out, then FIN; a peer that never closes is cut after a while.
      node.end();
      setTimeout(() => node.destroy(), 2000).unref();
    }
  }

  closeAll(): void {
    for (const c of this.all.values()) {
      c.closed = true;
      this.clearAck(c);
      c.node?.destroy();
    }
    this.all.clear();
  }

  private dial(c: Connection, address: string, port: number): void {
    const node = connect({ host: address, port });
    node.setNoDelay(true);
    c.node = node;
    const early = c.early;
    c.early = undefined;
    for (const bytes of early ?? []) this.write(c.id, bytes);
    node.on("connect", () => {
      if (c.closed) return;
      c.connected = true;
      this.owner.deliver(Delivery.Connected, c.id, Buffer.from(`${node.remoteAddress}:${node.remotePort}`));
    });
    node.on("data", (data: Buffer) => {
      if (c.closed) return;
      for (let at = 0; at < data.length; at += c.segment) c.queue.push(data.subarray(at, at + c.segment));
      c.queued += data.length;
      if (c.queued > highWater) node.pause();
      this.pump(c);
    });
    node.on("end", () => {
      if (c.closed || c.end !== undefined) return;
      c.end = Delivery.Disconnected;
      this.pump(c);
    });
    node.on("error", (error: NodeJS.ErrnoException) => {
      if (c.closed) return;
      this.fail(c, !c.connected && error.code === "ECONNREFUSED");
    });
    node.on("close", () => {
      if (c.closed || c.end !== undefined) return;
      c.end = Delivery.Disconnected;
      this.pump(c);
    });
  }

  /** The connection failed (refused: before it was ever made). */
  private fail(c: Connection, refused: boolean): void {
    if (c.closed || c.end !== undefined) return;
    const lin = this.owner.platform === "lin";
    if (refused && this.owner.refusedConnects && c.kind === "socket") {
      // Reported as connected (an empty peer), writes then fail; lin notices the dead socket on its next poll.
      this.owner.deliver(Delivery.Connected, c.id);
    }
    if (c.kind === "tcp") {
      c.end = Delivery.Error; // after what arrived was read: ECMA-419's onError comes last
      this.pump(c, true);
      return;
    }
    c.queue.length = 0;
    c.queued = 0;
    c.end = lin ? Delivery.Disconnected : Delivery.Error;
    c.ended = true;
    if (lin) {
      this.owner.deliver(Delivery.Error, c.id); // lin: silent, but writes fail from now on
      setTimeout(() => { if (!c.closed) this.owner.deliver(Delivery.Disconnected, c.id); }, linPollMs);
    } else this.owner.deliver(Delivery.Error, c.id);
  }

  /** Hands segments to XS as it reads them; then the end. `all`: the connection is gone, no window to keep. */
  private pump(c: Connection, all = false): void {
    if (c.closed) return;
    while (c.queue.length > 0 && (all || c.inXS < c.credits)) {
      const segment = c.queue.shift() as Uint8Array;
      c.queued -= segment.length;
      c.inXS++;
      if (c.acked > 0 && !c.ended) {
        // The acknowledgement rides on the data: one delivery instead of two.
        const both = new Uint8Array(segment.length + 4);
        both.set(segment);
        both.set(u32(c.acked), segment.length);
        this.clearAck(c);
        this.owner.deliver(Delivery.DataSent, c.id, both);
      } else this.owner.deliver(Delivery.Data, c.id, segment);
    }
    if (c.queued <= highWater && c.node?.isPaused()) c.node.resume();
    if (c.end !== undefined && !c.ended && c.queue.length === 0 && c.inXS === 0) {
      c.ended = true;
      this.owner.deliver(c.end, c.id);
    }
  }

  /** No data came to carry it: the acknowledgement goes alone, for everything written so far. */
  private acknowledge(c: Connection): void {
    const acked = c.acked;
    this.clearAck(c);
    if (acked > 0 && !c.ended && !c.closed) this.owner.deliver(Delivery.Sent, c.id, u32(acked));
  }

  private clearAck(c: Connection): void {
    clearTimeout(c.ackTimer);
    c.ackTimer = undefined;
    c.acked = 0;
  }
}
