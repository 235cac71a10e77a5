// What a broker sends and receives, for tests, benches and the simulator: CONNACK, SUBACK and PUBLISH-from-
// bytes encoders, CONNECT/SUBSCRIBE/UNSUBSCRIBE decoding, and feeding a PacketReader from an array. A device
// never runs this code, so it lives here and not in src/mqtt/codec.ts. Runs inside XS too (test/support/xs/codec.ts).
import {
  type ByteSource, MAX_REMAINING_LENGTH, Packet, PacketReader, PacketType, ReadStatus, decode, packetSize, writeHeader,
} from "../../src/mqtt/codec.ts";
import { ErrorCode } from "../../src/mqtt/errors.ts";
import { validUtf8 } from "../../src/mqtt/utf8.ts";
import { checkProperties, readVarint, varintSize } from "../../src/mqtt/properties.ts";

function fits(buf: Uint8Array, o: number, remaining: number): boolean {
  return remaining <= MAX_REMAINING_LENGTH && o + packetSize(remaining) <= buf.length;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Reads a length-prefixed string field at `o` within `end`; returns the end offset or -1. */
function stringField(b: Uint8Array, o: number, end: number, utf8: boolean): number {
  if (o + 2 > end) return -1;
  const e = o + 2 + u16(b, o);
  if (e > end) return -1;
  if (utf8 && !validUtf8(b, o + 2, e)) return -2;
  return e;
}

/** CONNACK (3.2): what a server sends. */
export function encodeConnack(buf: Uint8Array, o: number, sessionPresent: boolean, returnCode: number): number {
  if (!fits(buf, o, 2)) return -ErrorCode.BufferTooShort;
  buf[o++] = PacketType.CONNACK << 4; buf[o++] = 2;
  buf[o++] = sessionPresent ? 1 : 0; buf[o++] = returnCode & 255;
  return o;
}

/** PUBLISH with topic and payload given as byte ranges (the simulator's broker and tests). */
export function encodePublishBytes(
  buf: Uint8Array, o: number, topic: Uint8Array, ts: number, te: number, payload: Uint8Array, ps: number, pe: number,
  qos: number, retain: boolean, dup: boolean, packetId: number,
): number {
  const topicLen = te - ts, plen = pe - ps;
  if (topicLen < 1 || topicLen > 65535) return -ErrorCode.BadTopic;
  const remaining = 2 + topicLen + (qos > 0 ? 2 : 0) + plen;
  if (!fits(buf, o, remaining)) return -ErrorCode.BufferTooShort;
  o = writeHeader(buf, o, (PacketType.PUBLISH << 4) | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0), remaining);
  buf[o++] = topicLen >> 8; buf[o++] = topicLen & 255;
  for (let i = ts; i < te; i++) buf[o++] = topic[i];
  if (qos > 0) { buf[o++] = packetId >> 8; buf[o++] = packetId & 255; }
  for (let i = ps; i < pe; i++) buf[o++] = payload[i];
  return o;
}

/** SUBACK (3.9) with return codes taken from `codes[0..count)`; the simulator and tests send it. */
export function encodeSuback(buf: Uint8Array, o: number, packetId: number, codes: ArrayLike<number>, count: number): number {
  const remaining = 2 + count;
  if (!fits(buf, o, remaining)) return -ErrorCode.BufferTooShort;
  o = writeHeader(buf, o, PacketType.SUBACK << 4, remaining);
  buf[o++] = packetId >> 8; buf[o++] = packetId & 255;
  for (let i = 0; i < count; i++) buf[o++] = codes[i];
  return o;
}

/** Offsets of a decoded CONNECT's fields in the packet buffer (-1: absent). */
export class ConnectFields {
  protocolLevel = 0;
  connectFlags = 0;
  keepalive = 0;
  clientIdStart = 0;
  clientIdEnd = 0;
  willTopicStart = 0;
  willTopicEnd = 0;
  willPayloadStart = 0;
  willPayloadEnd = 0;
  usernameStart = -1;
  usernameEnd = -1;
  passwordStart = -1;
  passwordEnd = -1;
  /** MQTT 5.0 (protocolLevel 5): the CONNECT and will property blocks, without their lengths (empty otherwise). */
  propertiesStart = 0;
  propertiesEnd = 0;
  willPropertiesStart = 0;
  willPropertiesEnd = 0;
}

/** A decoded packet with a broker's view of CONNECT (its fields as offsets). */
export class ServerPacket extends Packet {
  /** Made on the first CONNECT decoded, reused after. */
  connect: ConnectFields | undefined = undefined;
}

/**
 * Decodes any MQTT 3.1.1 packet, including those only clients send (CONNECT, SUBSCRIBE, UNSUBSCRIBE), which the
 * device's decode() refuses. Returns 0 or -ErrorCode like decode(). A CONNECT of either level decodes (a 5.0 one
 * with its property blocks checked, so a broker can answer it or a sniffer learn the level); other packets follow
 * `p.v5`.
 */
export function decodeAny(r: PacketReader, p: ServerPacket | Packet): number {
  const type = r.first >> 4;
  if (type !== PacketType.CONNECT && type !== PacketType.SUBSCRIBE && type !== PacketType.UNSUBSCRIBE) return decode(r, p);
  const b = r.buf, flags = r.first & 15, len = r.length;
  p.buf = p.topicBuf = b;
  p.type = type;
  p.flags = flags;
  p.dup = false; p.qos = 0; p.retain = false; p.packetId = 0;
  p.payloadStart = p.payloadEnd = p.topicStart = p.topicEnd = 0;
  if (type === PacketType.CONNECT) {
    if (flags !== 0) return -ErrorCode.MalformedPacket;
    if (r.truncated) return -ErrorCode.PacketTooLarge;
    const sp = p as ServerPacket;
    return decodeConnect(b, len, sp.connect ??= new ConnectFields(), p);
  }
  // SUBSCRIBE or UNSUBSCRIBE: a packet id, then filters (with a QoS byte each for SUBSCRIBE).
  if (flags !== 2 || len < 2) return -ErrorCode.MalformedPacket;
  if (r.truncated) return -ErrorCode.PacketTooLarge;
  p.packetId = u16(b, 0);
  if (p.packetId === 0) return -ErrorCode.MalformedPacket;
  let o = 2;
  if (o === len) return -ErrorCode.MalformedPacket; // MQTT-3.8.3-3, 3.10.3-2
  while (o < len) {
    const e = stringField(b, o, len, true);
    if (e === -2) return -ErrorCode.BadUtf8;
    if (e < 0 || e === o + 2) return -ErrorCode.MalformedPacket;
    o = e;
    if (type === PacketType.SUBSCRIBE) {
      if (o >= len || b[o] > 2) return -ErrorCode.MalformedPacket; // MQTT-3.8.3-4
      o++;
    }
  }
  p.payloadStart = 2;
  p.payloadEnd = len;
  return 0;
}

/** A 5.0 property block whose length is at b[o] (within `len`) for `type` (0: will): its end offset or -ErrorCode. */
function propertyBlock(b: Uint8Array, o: number, len: number, type: number, found: Packet): number {
  const n = readVarint(b, o, len);
  if (n < 0) return -ErrorCode.MalformedPacket;
  const s = o + varintSize(n), e = s + n;
  if (e > len) return -ErrorCode.MalformedPacket;
  const status = checkProperties(b, s, e, type, found.received);
  return status < 0 ? status : e;
}

function decodeConnect(b: Uint8Array, len: number, p: ConnectFields, found: Packet): number {
  // "MQTT" (3.1.1) or "MQIsdp" (3.1); the level is left to the caller, which answers CONNACK 1 (MQTT-3.1.2-2)
  let o = stringField(b, 0, len, true);
  if (o < 0 || o + 4 > len) return -ErrorCode.MalformedPacket;
  const mqtt = o === 6 && b[2] === 0x4d && b[3] === 0x51 && b[4] === 0x54 && b[5] === 0x54;
  const mqisdp = o === 8 && b[2] === 0x4d && b[3] === 0x51 && b[4] === 0x49 && b[5] === 0x73 && b[6] === 0x64 && b[7] === 0x70;
  if (!mqtt && !mqisdp) return -ErrorCode.MalformedPacket; // MQTT-3.1.2-1
  p.protocolLevel = b[o];
  p.connectFlags = b[o + 1];
  p.keepalive = u16(b, o + 2);
  const f = p.connectFlags;
  if (f & 1) return -ErrorCode.MalformedPacket; // reserved, MQTT-3.1.2-3
  const will = (f & 4) !== 0, willQos = (f >> 3) & 3;
  if (!will && (willQos !== 0 || (f & 0x20))) return -ErrorCode.MalformedPacket;
  if (willQos === 3) return -ErrorCode.MalformedPacket;
  const v5 = mqtt && p.protocolLevel === 5;
  if (!v5 && !(f & 0x80) && (f & 0x40)) return -ErrorCode.MalformedPacket; // 3.1.1 only (MQTT-3.1.2-22); 5.0 allows it
  o += 4;
  p.propertiesStart = p.propertiesEnd = p.willPropertiesStart = p.willPropertiesEnd = 0;
  let e = 0;
  if (v5) {
    e = propertyBlock(b, o, len, PacketType.CONNECT, found);
    if (e < 0) return e;
    p.propertiesEnd = e; p.propertiesStart = e - readVarint(b, o, len); o = e;
  }
  e = stringField(b, o, len, true);
  if (e < 0) return e === -2 ? -ErrorCode.BadUtf8 : -ErrorCode.MalformedPacket;
  p.clientIdStart = o + 2; p.clientIdEnd = e; o = e;
  p.willTopicStart = p.willTopicEnd = p.willPayloadStart = p.willPayloadEnd = 0;
  if (will) {
    if (v5) {
      e = propertyBlock(b, o, len, 0, found);
      if (e < 0) return e;
      p.willPropertiesEnd = e; p.willPropertiesStart = e - readVarint(b, o, len); o = e;
    }
    e = stringField(b, o, len, true);
    if (e < 0) return e === -2 ? -ErrorCode.BadUtf8 : -ErrorCode.MalformedPacket;
    p.willTopicStart = o + 2; p.willTopicEnd = e; o = e;
    e = stringField(b, o, len, false);
    if (e < 0) return -ErrorCode.MalformedPacket;
    p.willPayloadStart = o + 2; p.willPayloadEnd = e; o = e;
  }
  p.usernameStart = p.usernameEnd = p.passwordStart = p.passwordEnd = -1;
  if (f & 0x80) {
    e = stringField(b, o, len, true);
    if (e < 0) return e === -2 ? -ErrorCode.BadUtf8 : -ErrorCode.MalformedPacket;
    p.usernameStart = o + 2; p.usernameEnd = e; o = e;
  }
  if (f & 0x40) {
    e = stringField(b, o, len, false);
    if (e < 0) return -ErrorCode.MalformedPacket;
    p.passwordStart = o + 2; p.passwordEnd = e; o = e;
  }
  return o === len ? 0 : -ErrorCode.MalformedPacket;
}

/** A ByteSource over bytes[start, end) of an array (tests and in-memory streams); `pos` is how far it got. */
export class ArraySource implements ByteSource {
  pos = 0;
  bytes: Uint8Array = new Uint8Array(0);
  end = 0;
  /** Reuse for another range (benches feed one source per packet: no object per packet). */
  reset(bytes: Uint8Array, start: number, end: number): this {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    return this;
  }
  available(): number { return this.end - this.pos; }
  readByte(): number { return this.bytes[this.pos++]; }
  readInto(dst: Uint8Array, offset: number, max: number): number {
    const n = Math.min(max, this.end - this.pos), b = this.bytes, p = this.pos;
    for (let i = 0; i < n; i++) dst[offset + i] = b[p + i]; // no view per call
    this.pos = p + n;
    return n;
  }
  readAll(dst: Uint8Array): void { this.readInto(dst, 0, dst.length); }
  skip(max: number): number {
    const n = Math.min(max, this.end - this.pos);
    this.pos += n;
    return n;
  }
}

/** A PacketReader fed from arrays: push(bytes, start, end) reads until a packet completes or the bytes end. */
export class PushReader extends PacketReader {
  /** Bytes the last push used. */
  consumed = 0;
  private readonly source = new ArraySource();
  push(bytes: Uint8Array, start: number, end: number): number {
    const status = this.pull(this.source.reset(bytes, start, end));
    this.consumed = this.source.pos - start;
    return status;
  }
}

export { ReadStatus };
