// INSIDE XS: Moddable's legacy `socket` in memory, for src/net/socket-transport.ts without the XS host: one broker
// packet per readable callback, read()/read(Number)/read(null, n) over it, write() swallows. Allocates nothing.
import type { Feed } from "../memory-transport.ts";
import { Op, rec } from "./record.ts";
import { SocketMessages } from "../../../../hosts/shared/moddable-constants.ts";

export class Socket extends SocketMessages {
  /** The socket made last (the client's), for the driver. */
  static last: Socket | undefined;
  callback: ((message: number, value?: number) => void) | undefined;
  room = 2920;
  writes = 0;
  bytesOut = 0;
  lastPacket: Uint8Array | undefined;
  private input: Feed | undefined;
  private pos = 0;
  private end = 0;

  constructor(_options: object) { super(); Socket.last = this; }

  /** Driver: the connection is up. */
  connect(): void { this.callback!(1); }

  /** Driver: one packet arrives. */
  deliver(feed: Feed): void {
    const log = rec.log;
    if (log) log.push(Op.Deliver, feed.index);
    this.input = feed;
    this.pos = 0;
    this.end = feed.bytes.length;
    this.callback!(2, this.end);
  }

  /** read(): bytes available; read(Number): one byte; read(null, n): skips n. (The String/ArrayBuffer forms allocate: not used.) */
  read(type?: unknown, count?: number): number {
    const log = rec.log;
    if (type === undefined) {
      if (log) log.push(Op.Available, 0);
      return this.end - this.pos;
    }
    if (type === null) {
      let n = this.end - this.pos;
      if (count! < n) n = count!;
      if (log) log.push(Op.Skip, n);
      this.pos += n;
      return n;
    }
    if (log) log.push(Op.ReadByte, 0);
    return this.input!.bytes[this.pos++];
  }

  /** write(): space; write(packet): sends it all. */
  write(data?: ArrayBufferView | ArrayBuffer): number | undefined {
    const log = rec.log;
    if (data === undefined) {
      if (log) log.push(Op.Writable, 0);
      return this.room;
    }
    if (log) log.push(Op.Write, data.byteLength);
    this.writes++;
    this.bytesOut += data.byteLength;
    if (ArrayBuffer.isView(data)) this.lastPacket = data as Uint8Array;
    return undefined;
  }

  close(): void {}
}

export class Listener {
  constructor() { throw new Error("fake socket: no Listener"); }
}

export default { Socket, Listener };
