// A byte stream cut into chunks, fed to a PacketReader through push or pull, each packet decoded: the one feeder
// for the codec tests in Node (codec-oracle.ts) and inside XS (xs/codec.ts). No npm imports.
import { ReadStatus, type ByteSource } from "../../src/mqtt/codec.ts";
import { PushReader, ServerPacket, decodeAny } from "../../sim/brokers/server-codec.ts";

/** What one packet of the stream gave: status 0 with the packet decoded into `p`, or a negative error code. */
export type OnPacket = (status: number, p: ServerPacket, type: number) => void;

function emit(reader: PushReader, p: ServerPacket, onPacket: OnPacket): void {
  onPacket(decodeAny(reader, p), p, reader.type);
}

/**
 * Feeds chunks to `reader.push` and decodes every completed packet. After an error the reader is reset and
 * reading goes on (the client would close the connection instead; here we want to see everything).
 */
export function pushChunks(reader: PushReader, chunks: Uint8Array[], onPacket: OnPacket, p = new ServerPacket()): void {
  for (const c of chunks) {
    let i = 0;
    while (i < c.length) {
      const s = reader.push(c, i, c.length);
      if (reader.consumed < 0 || reader.consumed > c.length - i) throw new Error(`push consumed ${reader.consumed} of ${c.length - i}`);
      i += reader.consumed;
      if (s === ReadStatus.Complete) emit(reader, p, onPacket);
      else if (s < 0) { onPacket(s, p, reader.type); reader.reset(); }
      else if (i !== c.length) throw new Error("push returned NeedMore before the end of its input");
    }
  }
}

/** A ByteSource over chunks that arrive one at a time; it throws if anyone reads past what is available. */
export class ChunkSource implements ByteSource {
  private chunks: Uint8Array[] = [];
  private offset = 0;
  /** Total bytes handed out. */
  delivered = 0;
  feed(c: Uint8Array): void { if (c.length) this.chunks.push(c); }
  available(): number {
    let n = 0 - this.offset;
    for (const c of this.chunks) n += c.length;
    return n;
  }
  readByte(): number {
    const c = this.chunks[0];
    if (!c) throw new Error("readByte with nothing available");
    const b = c[this.offset++];
    this.advance();
    this.delivered++;
    return b;
  }
  readInto(dst: Uint8Array, offset: number, max: number): number {
    if (max <= 0) throw new Error(`readInto asked for ${max} bytes`);
    if (offset < 0 || offset + Math.min(max, this.available()) > dst.length) throw new Error(`readInto would write past dst (${offset}+${max} > ${dst.length})`);
    let n = 0;
    while (n < max && this.chunks.length) {
      const c = this.chunks[0];
      const take = Math.min(max - n, c.length - this.offset);
      for (let k = 0; k < take; k++) dst[offset + n + k] = c[this.offset + k];
      this.offset += take;
      n += take;
      this.advance();
    }
    this.delivered += n;
    return n;
  }
  readAll(dst: Uint8Array): void { this.readInto(dst, 0, dst.length); }
  skip(max: number): number {
    if (max <= 0) throw new Error(`skip asked for ${max} bytes`);
    let n = 0;
    while (n < max && this.chunks.length) {
      const take = Math.min(max - n, this.chunks[0].length - this.offset);
      this.offset += take;
      n += take;
      this.advance();
    }
    this.delivered += n;
    return n;
  }
  private advance(): void {
    if (this.chunks.length && this.offset === this.chunks[0].length) { this.chunks.shift(); this.offset = 0; }
  }
}

/** Like pushChunks, through `reader.pull` and a ChunkSource that receives the chunks one by one. */
export function pullChunks(reader: PushReader, chunks: Uint8Array[], onPacket: OnPacket, p = new ServerPacket()): void {
  const src = new ChunkSource();
  for (const c of chunks) {
    src.feed(c);
    while (src.available() > 0) {
      const s = reader.pull(src);
      if (s === ReadStatus.Complete) emit(reader, p, onPacket);
      else if (s < 0) { onPacket(s, p, reader.type); reader.reset(); }
      else if (src.available() !== 0) throw new Error("pull returned NeedMore with bytes still available");
    }
  }
}

/** What each packet of one stream gave through push (or pull) with a reader of `capacity`, as `outcome` sees it. */
export function decodeChunks<T>(chunks: Uint8Array[], capacity: number, mode: "push" | "pull", outcome: (status: number, p: ServerPacket, type: number) => T): T[] {
  const out: T[] = [];
  (mode === "push" ? pushChunks : pullChunks)(new PushReader(capacity), chunks, (status, p, type) => out.push(outcome(status, p, type)));
  return out;
}
