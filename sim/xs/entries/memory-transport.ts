// An in-memory Transport for src/ alone inside XS: it plays pre-encoded broker packets to the client, one
// packet per data event (as a socket callback would), and swallows what the client writes. Steady state
// allocates nothing: a packet is read through views made once per (offset, length) and then reused.
import type { Transport, TransportListener } from "../../../src/net/transport";

export class MemoryTransport implements Transport {
  listener: TransportListener | undefined;
  /** Bytes written by the client, packets written, and where the last one is (in the client's buffer). */
  bytesOut = 0;
  writes = 0;
  lastSrc: Uint8Array | undefined;
  lastStart = 0;
  lastEnd = 0;
  /** Space write() reports: a socket whose peer acknowledges at once. */
  room = 2920;
  private input: Feed = new Feed([]);
  private pos = 0;
  private end = 0;

  open(_host: string, _port: number, listener: TransportListener): void { this.listener = listener; }
  close(): void { this.listener = undefined; }

  /** Connects: the client answers with CONNECT. */
  connect(): void { this.listener!.onTransportConnect(); }

  /** Hands one packet to the client as one data event. */
  deliver(feed: Feed): void {
    this.input = feed;
    this.pos = 0;
    this.end = feed.bytes.length;
    this.listener!.onTransportData();
  }

  available(): number { return this.end - this.pos; }

  readByte(): number { return this.input.bytes[this.pos++]; }

  readInto(dst: Uint8Array, offset: number, max: number): number {
    let n = this.end - this.pos;
    if (n > max) n = max;
    if (n <= 0) return 0;
    dst.set(this.input.view(this.pos, n), offset);
    this.pos += n;
    return n;
  }

  readAll(dst: Uint8Array): void { this.readInto(dst, 0, dst.length); }
  skip(max: number): number {
    let n = this.end - this.pos;
    if (n > max) n = max;
    this.pos += n;
    return n;
  }

  writable(): number { return this.listener ? this.room : 0; }

  write(packet: Uint8Array): boolean {
    this.bytesOut += packet.length;
    this.writes++;
    this.lastSrc = packet;
    this.lastStart = 0;
    this.lastEnd = packet.length;
    return true;
  }

  /** The first byte of the last packet written (its type and flags). */
  lastFirstByte(): number { return this.lastSrc ? this.lastSrc[this.lastStart] : -1; }
}

/** One broker packet, replayed as often as needed; its bytes may be patched in place (packet ids). */
export class Feed {
  readonly bytes: Uint8Array;
  /** Its place in the driver's list (recorded calls name feeds by index). */
  index = -1;
  /** Views of `bytes`, index start * (length + 1) + count, made on first use. */
  private readonly views: (Uint8Array | undefined)[] = [];
  constructor(bytes: ArrayLike<number>) { this.bytes = Uint8Array.from(bytes); }
  /** bytes[start, start + count) as a view made once. */
  view(start: number, count: number): Uint8Array {
    const key = start * (this.bytes.length + 1) + count;
    const v = this.views[key];
    return v !== undefined ? v : (this.views[key] = this.bytes.subarray(start, start + count));
  }
  /** Sets the packet id of an acknowledgement (bytes 2 and 3). */
  setId(id: number): void { this.bytes[2] = id >> 8; this.bytes[3] = id & 255; }
}
