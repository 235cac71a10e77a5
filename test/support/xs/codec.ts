// XS entry for test/xs-codec: runs src/mqtt/codec inside XS on plain data from the Node side, which compares
// the results with mqtt-packet and with the same codec on V8. Packets come back as raw fields and buffer bytes.
import { decode, encodePublish, Packet, PacketReader, ReadStatus, type ByteSource } from "../../../src/mqtt/codec.ts";
import { encodeOurs, type Fields } from "../encode-fields.ts";
import { PushReader, ServerPacket, decodeAny } from "../../../sim/brokers/server-codec.ts";

const scratch = new Uint8Array(70000);

/** Our bytes for each packet, or { error } with the codec's (negative) error code. */
export function encode(list: Fields[]): (number[] | { error: number })[] {
  return list.map((f) => {
    const end = encodeOurs(scratch, 0, f);
    return end < 0 ? { error: end } : Array.from(scratch.subarray(0, end));
  });
}

/** A PUBLISH whose payload is a string or a number (the codec writes those without allocating). */
export function encodeTextPublish(topic: string, payload: string | number, qos: number, packetId: number): number[] | { error: number } {
  const end = encodePublish(scratch, 0, topic, payload, qos, false, false, packetId);
  return end < 0 ? { error: end } : Array.from(scratch.subarray(0, end));
}

export type RawOutcome = { packet: Record<string, unknown>; buf: number[] } | { error: number; type: number };

function snapshot(p: ServerPacket): RawOutcome {
  const packet: Record<string, unknown> = {};
  for (const key of Object.keys(p)) if (key !== "buf") packet[key] = (p as unknown as Record<string, unknown>)[key];
  if (p.connect) packet.connect = { ...p.connect }; // the decoder reuses it for the next CONNECT
  return { packet, buf: Array.from(p.buf) };
}

/** A ByteSource over chunks given one at a time (the shape a socket transport has). */
class Chunks implements ByteSource {
  private chunk: Uint8Array = new Uint8Array(0);
  private at = 0;
  feed(c: Uint8Array): void { this.chunk = c; this.at = 0; }
  available(): number { return this.chunk.length - this.at; }
  readByte(): number { return this.chunk[this.at++]; }
  readInto(dst: Uint8Array, offset: number, max: number): number {
    const n = Math.min(max, this.available());
    dst.set(this.chunk.subarray(this.at, this.at + n), offset);
    this.at += n;
    return n;
  }
  readAll(dst: Uint8Array): void { this.readInto(dst, 0, dst.length); }
  skip(max: number): number {
    const n = Math.min(max, this.available());
    this.at += n;
    return n;
  }
}

/** Decodes a byte stream cut into chunks, through push or pull; after an error the reader resets and goes on. */
export function decodeStream(chunks: number[][], capacity: number, mode: "push" | "pull"): RawOutcome[] {
  const out: RawOutcome[] = [];
  const reader = new PushReader(capacity);
  const p = new ServerPacket();
  const complete = (): void => {
    const r = decodeAny(reader, p);
    out.push(r === 0 ? snapshot(p) : { error: r, type: reader.type });
  };
  const source = new Chunks();
  for (const c of chunks) {
    const bytes = Uint8Array.from(c);
    if (mode === "pull") {
      source.feed(bytes);
      while (source.available() > 0) {
        const s = reader.pull(source);
        if (s === ReadStatus.Complete) complete();
        else if (s < 0) { out.push({ error: s, type: reader.type }); reader.reset(); }
      }
      continue;
    }
    let i = 0;
    while (i < bytes.length) {
      const s = reader.push(bytes, i, bytes.length);
      i += reader.consumed;
      if (s === ReadStatus.Complete) complete();
      else if (s < 0) { out.push({ error: s, type: reader.type }); reader.reset(); }
    }
  }
  return out;
}
