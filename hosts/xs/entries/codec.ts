// XS entry for test/xs-codec: runs src/mqtt/codec inside XS on plain data from the Node side, which compares
// the results with mqtt-packet and with the same codec on V8. Packets come back as raw fields and buffer bytes.
import {
  decode, encodeAck, encodeConnack, encodeConnect, encodeEmpty, encodePublish, encodeSuback, encodeSubscribe,
  encodeUnsubscribe, Packet, PacketReader, PacketType, ReadStatus, type ByteSource, type ConnectOptions,
} from "../../../src/mqtt/codec";

/** The shape of test/codec-helpers.ts `Fields` (plain JSON). */
type Fields = { cmd: string; [key: string]: any };

const ackTypes: Record<string, number> = { puback: PacketType.PUBACK, pubrec: PacketType.PUBREC, pubrel: PacketType.PUBREL, pubcomp: PacketType.PUBCOMP, unsuback: PacketType.UNSUBACK };
const emptyTypes: Record<string, number> = { pingreq: PacketType.PINGREQ, pingresp: PacketType.PINGRESP, disconnect: PacketType.DISCONNECT };

function encodeInto(buf: Uint8Array, f: Fields): number {
  switch (f.cmd) {
    case "connect": {
      const c: ConnectOptions = { clientId: f.clientId, keepalive: f.keepalive, cleanSession: f.clean };
      if (f.username !== undefined) c.username = f.username;
      if (f.password !== undefined) c.password = Uint8Array.from(f.password);
      if (f.will) c.will = { topic: f.will.topic, payload: Uint8Array.from(f.will.payload), qos: f.will.qos, retain: f.will.retain };
      return encodeConnect(buf, 0, c);
    }
    case "connack": return encodeConnack(buf, 0, f.sessionPresent, f.returnCode);
    case "publish": return encodePublish(buf, 0, f.topic, Uint8Array.from(f.payload), f.qos, f.retain, f.dup, f.messageId ?? 0);
    case "subscribe": return encodeSubscribe(buf, 0, f.messageId, f.subscriptions[0].topic, f.subscriptions[0].qos);
    case "suback": return encodeSuback(buf, 0, f.messageId, f.granted, f.granted.length);
    case "unsubscribe": return encodeUnsubscribe(buf, 0, f.messageId, f.unsubscriptions[0]);
    default:
      if (f.cmd in ackTypes) return encodeAck(buf, 0, ackTypes[f.cmd], f.messageId);
      if (f.cmd in emptyTypes) return encodeEmpty(buf, 0, emptyTypes[f.cmd]);
      throw new Error(`no encoder for ${f.cmd}`);
  }
}

const scratch = new Uint8Array(70000);

/** Our bytes for each packet, or { error } with the codec's (negative) error code. */
export function encode(list: Fields[]): (number[] | { error: number })[] {
  return list.map((f) => {
    const end = encodeInto(scratch, f);
    return end < 0 ? { error: end } : Array.from(scratch.subarray(0, end));
  });
}

/** A PUBLISH whose payload is a string or a number (the codec writes those without allocating). */
export function encodeTextPublish(topic: string, payload: string | number, qos: number, packetId: number): number[] | { error: number } {
  const end = encodePublish(scratch, 0, topic, payload, qos, false, false, packetId);
  return end < 0 ? { error: end } : Array.from(scratch.subarray(0, end));
}

export type RawOutcome = { packet: Record<string, unknown>; buf: number[] } | { error: number; type: number };

function snapshot(p: Packet): RawOutcome {
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
}

/** Decodes a byte stream cut into chunks, through push or pull; after an error the reader resets and goes on. */
export function decodeStream(chunks: number[][], capacity: number, mode: "push" | "pull"): RawOutcome[] {
  const out: RawOutcome[] = [];
  const reader = new PacketReader(capacity);
  const p = new Packet();
  const complete = (): void => {
    const r = decode(reader, p);
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
