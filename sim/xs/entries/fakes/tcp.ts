// INSIDE XS: ECMA-419 `embedded:io/socket/tcp` in memory, for src/net/tcp-transport.ts without the XS host: the
// driver hands it one broker packet per onReadable, read(buffer) fills the buffer natively, write() swallows.
// Steady state allocates nothing: views of the caller's buffer and of each packet are made once and reused.
import type { TCPOptions } from "embedded:io/socket/tcp";
import type { Feed } from "../memory-transport.ts";
import { Op, rec } from "./record.ts";

export default class FakeTCP {
  /** The socket made last (the client's), for the driver. */
  static last: FakeTCP | undefined;
  format: "buffer" | "number" = "buffer";
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Output space reported to the transport: a peer that acknowledges at once. */
  room = 2920;
  writes = 0;
  bytesOut = 0;
  lastPacket: Uint8Array | undefined;
  /** The dictionary's `target` (ECMA-419, as Moddable's builtinCommon keeps it): shared callbacks find their owner here. */
  target: unknown;
  private readonly options: TCPOptions;
  private input: Feed | undefined;
  private pos = 0;
  private into: ArrayBufferLike | undefined;
  private intoView: Uint8Array | undefined;

  constructor(options: TCPOptions) {
    this.options = options;
    this.remoteAddress = options.address;
    this.remotePort = options.port;
    if ("target" in options) this.target = (options as { target?: unknown }).target;
    FakeTCP.last = this;
  }

  /** Driver: the connection is up (first onWritable). */
  connect(): void { this.options.onWritable!.call(this as never, this.room); }

  /** Driver: one packet arrives. */
  deliver(feed: Feed): void {
    const log = rec.log;
    if (log) log.push(Op.Deliver, feed.index);
    this.input = feed;
    this.pos = 0;
    this.options.onReadable!.call(this as never, feed.bytes.length);
  }

  read(buffer: ArrayBuffer | ArrayBufferView): number {
    const log = rec.log;
    let view: Uint8Array;
    if (buffer instanceof Uint8Array) view = buffer;
    else {
      if (ArrayBuffer.isView(buffer)) throw new Error("fake TCP: read into an ArrayBuffer or a Uint8Array");
      if (buffer !== this.into) {
        this.into = buffer;
        this.intoView = new Uint8Array(buffer); // length-tracking when resizable: made once per buffer
      }
      view = this.intoView!;
    }
    const n = view.length, feed = this.input!;
    if (log) log.push(Op.ReadBuffer, n);
    if (n > feed.bytes.length - this.pos) throw new Error("read: more than available");
    view.set(feed.view(this.pos, n));
    this.pos += n;
    return n;
  }

  write(data: ArrayBuffer | ArrayBufferView): number {
    const log = rec.log;
    const n = data.byteLength;
    if (log) log.push(Op.Write, n);
    this.writes++;
    this.bytesOut += n;
    if (ArrayBuffer.isView(data)) this.lastPacket = data as Uint8Array;
    return this.room;
  }

  close(): void {}
}
