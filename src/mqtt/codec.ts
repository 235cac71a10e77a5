// MQTT 3.1.1 and 5.0 packets to and from caller-owned Uint8Arrays (section 2 and 3 of each spec).
// Encoders return the offset after the packet, or a negative ErrorCode; decoding fills one reused
// `Packet` with offsets into the receive buffer. Nothing here allocates or throws on bad input.
import { ErrorCode } from "./errors";
import { utf8ByteLength, utf8Length, validUtf8, writeUtf8 } from "./utf8";
import { decimalLength, writeDecimal } from "./decimal";
import { packetBytes } from "./packet-buffer";
import { filterLength, topicNameLength } from "./topic";
import type { ByteSource } from "../net/transport";
import { NUMBER, STRING } from "./kinds";
import {
  type ConnectProperties, FoundProperties, type WillProperties, PropertySet, checkProperties, propertiesLength,
  readVarint, varintSize, writeProperties, writeVarint,
} from "./properties";
import { isReasonCode } from "./errors";

export type { ByteSource };

export const PacketType = Object.freeze({
  CONNECT: 1, CONNACK: 2, PUBLISH: 3, PUBACK: 4, PUBREC: 5, PUBREL: 6, PUBCOMP: 7,
  SUBSCRIBE: 8, SUBACK: 9, UNSUBSCRIBE: 10, UNSUBACK: 11, PINGREQ: 12, PINGRESP: 13, DISCONNECT: 14, AUTH: 15,
} as const);

/** Largest remaining length MQTT can express (4 length bytes). */
export const MAX_REMAINING_LENGTH = 268435455;

// ---------------------------------------------------------------------------------------------
// Sizes

/** Bytes the remaining-length field takes for `n`: a variable byte integer, like 5.0's property lengths. */
export { varintSize as remainingLengthSize };

/** Whole packet size for a remaining length `n`. */
export function packetSize(n: number): number {
  return 1 + varintSize(n) + n;
}

/** Bytes a payload takes on the wire (strings as UTF-8, numbers as decimal text); -1 for a non-finite number. */
export function payloadLength(payload: Uint8Array | string | number | null | undefined): number {
  const kind = typeof payload;
  if (kind === NUMBER) return decimalLength(payload as number);
  if (kind === STRING) return utf8ByteLength(payload as string);
  return payload === null || payload === undefined ? 0 : (payload as Uint8Array).length;
}

function writePayload(buf: Uint8Array, o: number, payload: Uint8Array | string | number | null | undefined): number {
  const kind = typeof payload;
  if (kind === NUMBER) return writeDecimal(buf, o, payload as number);
  if (kind === STRING) return writeUtf8(buf, o, payload as string);
  if (payload === null || payload === undefined) return o;
  buf.set(payload as Uint8Array, o); // one native copy; allocates nothing
  return o + (payload as Uint8Array).length;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Writes the fixed header (type/flags byte and remaining length); returns the offset after it. */
export function writeHeader(buf: Uint8Array, o: number, first: number, remaining: number): number {
  buf[o++] = first;
  // writeVarint's loop, inline: every QoS 1/2 PUBLISH over 127 bytes comes here, and a call costs 19 XS instructions.
  do {
    let b = remaining & 127;
    remaining >>>= 7; // at most 2^28: shifts are exact
    if (remaining > 0) b |= 128;
    buf[o++] = b;
  } while (remaining > 0);
  return o;
}

function writeString(buf: Uint8Array, o: number, s: string, n: number): number {
  buf[o++] = n >> 8;
  buf[o++] = n & 255;
  return writeUtf8(buf, o, s);
}

function writeBinary(buf: Uint8Array, o: number, b: Uint8Array | string, n: number): number {
  buf[o++] = n >> 8;
  buf[o++] = n & 255;
  return typeof b === "string" ? writeUtf8(buf, o, b) : writePayload(buf, o, b);
}

export interface WillOptions {
  topic: string;
  payload?: Uint8Array | string;
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** MQTT 5.0 only. */
  properties?: WillProperties;
}

export interface ConnectOptions {
  clientId: string;
  /** Seconds; 0 disables keepalive. */
  keepalive: number;
  cleanSession: boolean;
  username?: string;
  password?: Uint8Array | string;
  will?: WillOptions;
  /** 4: MQTT 3.1.1 (default); 5: MQTT 5.0; 3: MQTT 3.1 ("MQIsdp"), for older brokers. */
  protocolVersion?: 3 | 4 | 5;
  /** MQTT 5.0 CONNECT properties. */
  properties?: ConnectProperties;
}

function fits(buf: Uint8Array, o: number, remaining: number): boolean {
  return remaining <= MAX_REMAINING_LENGTH && o + packetSize(remaining) <= buf.length;
}

/**
 * CONNECT (3.1): protocol "MQTT" level 4, level 5 (MQTT 5.0, with properties), or "MQIsdp" level 3 (MQTT 3.1).
 * Run once per connection. Properties that do not encode throw MQTTError (they say which and why).
 */
export function encodeConnect(buf: Uint8Array, o: number, c: ConnectOptions): number {
  const idLen = utf8Length(c.clientId);
  if (idLen < 0 || idLen > 65535) return -ErrorCode.BadUtf8;
  if (!(c.keepalive >= 0 && c.keepalive <= 65535)) return -ErrorCode.BadArgument;
  const v31 = c.protocolVersion === 3, v5 = c.protocolVersion === 5;
  let remaining = (v31 ? 12 : 10) + 2 + idLen;
  let propsLen = 0, willPropsLen = 0;
  if (v5) {
    propsLen = propertiesLength(c.properties, PropertySet.Connect);
    remaining += varintSize(propsLen) + propsLen;
    if (c.will) {
      willPropsLen = propertiesLength(c.will.properties, PropertySet.Will);
      remaining += varintSize(willPropsLen) + willPropsLen;
    }
  } else if (c.properties !== undefined || c.will?.properties !== undefined) return -ErrorCode.BadArgument; // 5.0 only
  let flags = c.cleanSession ? 0x02 : 0;
  let willTopicLen = 0, willPayloadLen = 0, userLen = 0, passLen = 0;
  const will = c.will;
  if (will) {
    willTopicLen = topicNameLength(will.topic);
    if (willTopicLen < 0) return -ErrorCode.BadTopic;
    willPayloadLen = typeof will.payload === "string" ? utf8Length(will.payload) : payloadLength(will.payload);
    if (willPayloadLen < 0 || willPayloadLen > 65535) return -ErrorCode.BadArgument;
    const q = will.qos ?? 0;
    if (q !== 0 && q !== 1 && q !== 2) return -ErrorCode.BadArgument;
    flags |= 0x04 | (q << 3) | (will.retain ? 0x20 : 0);
    remaining += 4 + willTopicLen + willPayloadLen;
  }
  if (c.username !== undefined) {
    userLen = utf8Length(c.username);
    if (userLen < 0 || userLen > 65535) return -ErrorCode.BadUtf8;
    flags |= 0x80;
    remaining += 2 + userLen;
  }
  if (c.password !== undefined) {
    if (c.username === undefined && !v5) return -ErrorCode.BadArgument; // MQTT-3.1.2-22 (5.0 allows it)
    passLen = typeof c.password === "string" ? utf8Length(c.password) : c.password.length;
    if (passLen < 0 || passLen > 65535) return -ErrorCode.BadArgument;
    flags |= 0x40;
    remaining += 2 + passLen;
  }
  if (!fits(buf, o, remaining)) return -ErrorCode.BufferTooShort;
  o = writeHeader(buf, o, PacketType.CONNECT << 4, remaining);
  if (v31) {
    buf[o++] = 0; buf[o++] = 6; buf[o++] = 0x4d; buf[o++] = 0x51; buf[o++] = 0x49; // "MQIsdp"
    buf[o++] = 0x73; buf[o++] = 0x64; buf[o++] = 0x70;
    buf[o++] = 3;
  } else {
    buf[o++] = 0; buf[o++] = 4; buf[o++] = 0x4d; buf[o++] = 0x51; buf[o++] = 0x54; buf[o++] = 0x54; // "MQTT"
    buf[o++] = v5 ? 5 : 4;
  }
  buf[o++] = flags;
  buf[o++] = c.keepalive >> 8;
  buf[o++] = c.keepalive & 255;
  if (v5) o = writeProperties(buf, writeVarint(buf, o, propsLen), c.properties, PropertySet.Connect);
  o = writeString(buf, o, c.clientId, idLen);
  if (will) {
    if (v5) o = writeProperties(buf, writeVarint(buf, o, willPropsLen), will.properties, PropertySet.Will);
    o = writeString(buf, o, will.topic, willTopicLen);
    o = writeBinary(buf, o, will.payload ?? "", willPayloadLen);
  }
  if (c.username !== undefined) o = writeString(buf, o, c.username, userLen);
  if (c.password !== undefined) o = writeBinary(buf, o, c.password, passLen);
  return o;
}

/**
 * PUBLISH (3.3). `topic` is a string, or bytes already validated as a topic name (a `Topic`'s): those are
 * copied natively. The payload may be bytes, a string (UTF-8) or a number (decimal text). packetId is
 * ignored for QoS 0. With `properties` (an encoded property block, maybe empty) it is an MQTT 5.0 PUBLISH,
 * with `topicAlias` (1..65535) written first among them; an empty topic then sends the alias alone.
 */
export function encodePublish(
  buf: Uint8Array, o: number, topic: string | Uint8Array, payload: Uint8Array | string | number | null | undefined,
  qos: number, retain: boolean, dup: boolean, packetId: number, properties?: Uint8Array, topicAlias = 0,
): number {
  const stringTopic = typeof topic === STRING;
  const topicLen = stringTopic ? (topic === "" ? 0 : topicNameLength(topic as string)) : (topic as Uint8Array).length;
  if (topicLen < 0 || (topicLen === 0 && topicAlias === 0)) return -ErrorCode.BadTopic;
  const plen = payloadLength(payload);
  if (plen < 0) return -ErrorCode.BadArgument;
  if (qos !== 0 && (qos !== 1 && qos !== 2 || !(packetId >= 1 && packetId <= 65535))) return -ErrorCode.BadArgument;
  if (!(topicAlias >= 0 && topicAlias <= 65535) || (topicAlias > 0 && !properties)) return -ErrorCode.BadArgument;
  const propsLen = properties ? publishPropertiesLength(properties, topicAlias) : -1;
  const remaining = 2 + topicLen + (qos > 0 ? 2 : 0) + plen + (properties ? varintSize(propsLen) + propsLen : 0);
  if (remaining > MAX_REMAINING_LENGTH || o + 1 + varintSize(remaining) + remaining > buf.length) return -ErrorCode.BufferTooShort;
  const first = PUBLISH_FIRST | (qos << 1) | (retain ? 1 : 0) | (dup ? 8 : 0);
  if (!stringTopic && typeof payload !== STRING && !properties) return writePublish(buf, o, first, remaining, topic as Uint8Array, payload as Uint8Array | number | null, packetId);
  o = writeHeader(buf, o, first, remaining);
  o = stringTopic ? writeString(buf, o, topic as string, topicLen) : writeBinary(buf, o, topic as Uint8Array, topicLen);
  if (properties) {
    o = writePublishProperties(buf, o, first, packetId, topicAlias, properties);
    return writePayload(buf, o, payload);
  }
  if (qos > 0) { buf[o++] = packetId >> 8; buf[o++] = packetId & 255; }
  return writePayload(buf, o, payload);
}

/** Size of an MQTT 5.0 PUBLISH's property block: the Topic Alias (when not 0) and `properties`. */
export function publishPropertiesLength(properties: Uint8Array | undefined, topicAlias: number): number {
  return (topicAlias > 0 ? 3 : 0) + (properties ? properties.length : 0);
}

/**
 * What follows an MQTT 5.0 PUBLISH's topic up to its payload: the packet id when `first` says QoS > 0, the
 * property length, the Topic Alias when not 0, then `properties` (copied natively). Returns the offset after them.
 */
export function writePublishProperties(buf: Uint8Array, o: number, first: number, packetId: number, topicAlias: number, properties: Uint8Array | undefined): number {
  if (first & 6) {
    buf[o] = packetId >> 8;
    buf[o + 1] = packetId & 255;
    o += 2;
  }
  const n = (topicAlias > 0 ? 3 : 0) + (properties !== undefined ? properties.length : 0); // publishPropertiesLength, inline
  if (n < 128) buf[o++] = n;
  else o = writeVarint(buf, o, n);
  if (topicAlias > 0) {
    buf[o] = 0x23; buf[o + 1] = topicAlias >> 8; buf[o + 2] = topicAlias & 255;
    o += 3;
  }
  if (properties && properties.length > 0) {
    buf.set(properties, o);
    o += properties.length;
  }
  return o;
}

/**
 * Writes a PUBLISH whose parts are already checked and measured (`remaining` is its remaining length) at
 * buf[o]: topic bytes, a packet id when `first` says QoS > 0, then bytes or a number. Returns the end offset.
 */
export function writePublish(
  buf: Uint8Array, o: number, first: number, remaining: number, topic: Uint8Array, payload: Uint8Array | number | null | undefined, packetId: number,
): number {
  return writePublishTail(buf, writePublishHead(buf, o, first, remaining, topic), first, payload, packetId);
}

/** The fixed header and topic of a measured PUBLISH at buf[o]; returns the offset after the topic. */
export function writePublishHead(buf: Uint8Array, o: number, first: number, remaining: number, topic: Uint8Array): number {
  buf[o] = first;
  if (remaining < 128) {
    buf[o + 1] = remaining;
    o += 2;
  } else o = writeHeader(buf, o, first, remaining);
  const n = topic.length;
  buf[o] = n >> 8;
  buf[o + 1] = n & 255;
  buf.set(topic, o + 2); // one native copy
  return o + 2 + n;
}

/** What follows a PUBLISH's topic at buf[o]: the packet id when `first` says QoS > 0, then the payload. */
export function writePublishTail(buf: Uint8Array, o: number, first: number, payload: Uint8Array | number | null | undefined, packetId: number): number {
  if (first & 6) {
    buf[o] = packetId >> 8;
    buf[o + 1] = packetId & 255;
    o += 2;
  }
  if (typeof payload === NUMBER) return writeDecimal(buf, o, payload as number);
  if (payload === null || payload === undefined) return o;
  buf.set(payload as Uint8Array, o); // one native copy; allocates nothing
  return o + (payload as Uint8Array).length;
}

const PUBLISH = 3;
/** The first byte of a QoS 0 PUBLISH without DUP or retain: or in `qos << 1` and 1 for retain. */
export const PUBLISH_FIRST = PUBLISH << 4;

/**
 * PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK: a packet id and nothing else. PUBREL has flags 0b0010.
 * (In MQTT 5.0 this short form means reason code 0, Success: 3.4.2.1.)
 */
export function encodeAck(buf: Uint8Array, o: number, type: number, packetId: number): number {
  if (!fits(buf, o, 2)) return -ErrorCode.BufferTooShort;
  buf[o++] = (type << 4) | (type === PacketType.PUBREL ? 2 : 0); buf[o++] = 2;
  buf[o++] = packetId >> 8; buf[o++] = packetId & 255;
  return o;
}

/** An MQTT 5.0 PUBACK, PUBREC, PUBREL or PUBCOMP with a reason code (and no properties): 5 bytes. */
export function encodeAckReason(buf: Uint8Array, o: number, type: number, packetId: number, reasonCode: number): number {
  if (!fits(buf, o, 3)) return -ErrorCode.BufferTooShort;
  buf[o++] = (type << 4) | (type === PacketType.PUBREL ? 2 : 0); buf[o++] = 3;
  buf[o++] = packetId >> 8; buf[o++] = packetId & 255;
  buf[o++] = reasonCode;
  return o;
}

/** Subscription options of MQTT 5.0 (3.8.3.1), or'ed with the QoS in a SUBSCRIBE's options byte. */
export const SubscribeOption = Object.freeze({ NoLocal: 0x04, RetainAsPublished: 0x08 } as const);

/**
 * SUBSCRIBE (3.8) with one filter (the client subscribes one filter per packet). With `properties` (an encoded
 * block, maybe empty) it is MQTT 5.0 and `options` (SubscribeOption bits, retain handling << 4) join the QoS.
 */
export function encodeSubscribe(buf: Uint8Array, o: number, packetId: number, filter: string, qos: number, properties?: Uint8Array, options = 0): number {
  const n = filterLength(filter);
  if (n < 0) return -ErrorCode.BadTopic;
  if (qos !== 0 && qos !== 1 && qos !== 2) return -ErrorCode.BadArgument;
  if ((options & ~0x3c) !== 0 || (options >> 4) === 3 || (options !== 0 && !properties)) return -ErrorCode.BadArgument;
  if ((options & SubscribeOption.NoLocal) !== 0 && filter.startsWith("$share/")) return -ErrorCode.BadArgument; // MQTT-3.8.3-4
  const remaining = 2 + propertyBlockSize(properties) + 2 + n + 1;
  if (!fits(buf, o, remaining)) return -ErrorCode.BufferTooShort;
  o = writeHeader(buf, o, (PacketType.SUBSCRIBE << 4) | 2, remaining);
  buf[o++] = packetId >> 8; buf[o++] = packetId & 255;
  o = writePropertyBlock(buf, o, properties);
  o = writeString(buf, o, filter, n);
  buf[o++] = qos | options;
  return o;
}

/** UNSUBSCRIBE (3.10) with one filter; with `properties` (maybe empty) MQTT 5.0. */
export function encodeUnsubscribe(buf: Uint8Array, o: number, packetId: number, filter: string, properties?: Uint8Array): number {
  const n = filterLength(filter);
  if (n < 0) return -ErrorCode.BadTopic;
  const remaining = 2 + propertyBlockSize(properties) + 2 + n;
  if (!fits(buf, o, remaining)) return -ErrorCode.BufferTooShort;
  o = writeHeader(buf, o, (PacketType.UNSUBSCRIBE << 4) | 2, remaining);
  buf[o++] = packetId >> 8; buf[o++] = packetId & 255;
  o = writePropertyBlock(buf, o, properties);
  return writeString(buf, o, filter, n);
}

/** Bytes a property block takes with its length prefix (0 when there is none: MQTT 3.1.1). */
function propertyBlockSize(properties: Uint8Array | undefined): number {
  return properties ? varintSize(properties.length) + properties.length : 0;
}

function writePropertyBlock(buf: Uint8Array, o: number, properties: Uint8Array | undefined): number {
  if (!properties) return o;
  o = writeVarint(buf, o, properties.length);
  buf.set(properties, o);
  return o + properties.length;
}

/**
 * MQTT 5.0 DISCONNECT (3.14) or AUTH (3.15): a reason code and properties (an encoded block); both left out when
 * the reason is 0 and there are no properties.
 */
export function encodeReasonPacket(buf: Uint8Array, o: number, type: number, reasonCode: number, properties?: Uint8Array): number {
  const empty = reasonCode === 0 && (!properties || properties.length === 0);
  const remaining = empty ? 0 : 1 + (properties && properties.length > 0 ? propertyBlockSize(properties) : 0);
  if (!fits(buf, o, remaining)) return -ErrorCode.BufferTooShort;
  o = writeHeader(buf, o, type << 4, remaining);
  if (empty) return o;
  buf[o++] = reasonCode;
  return properties && properties.length > 0 ? writePropertyBlock(buf, o, properties) : o;
}

/** PINGREQ, PINGRESP and DISCONNECT: two bytes. */
export function encodeEmpty(buf: Uint8Array, o: number, type: number): number {
  if (!fits(buf, o, 0)) return -ErrorCode.BufferTooShort;
  buf[o++] = type << 4; buf[o++] = 0;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Decoding

export const ReadStatus = Object.freeze({ NeedMore: 0, Complete: 1 } as const);

const PHASE_TYPE = 0, PHASE_LENGTH = 1, PHASE_BODY = 2, PHASE_DONE = 3;

/**
 * Reassembles packets from a byte stream split anywhere. The body lands in `buf` (capacity fixed at
 * construction). A packet bigger than `buf` keeps its first bytes (so its topic and packet id can still be
 * read), the rest is skipped, and `truncated` is set: the caller reports it and goes on.
 */
export class PacketReader {
  /**
   * The body of the packet read last: a length-tracking view over a resizable buffer of `capacity` bytes, sized
   * to the body when it arrived whole (so a transport can read it natively in one call).
   */
  readonly buf: Uint8Array;
  /** Most body bytes kept (rxBuffer). */
  readonly capacity: number;
  private readonly storage: ArrayBuffer;
  /** First byte: type << 4 | flags. */
  first = 0;
  /** Remaining length announced by the header. */
  length = 0;
  /** Body bytes seen so far (stored or skipped). */
  received = 0;
  /** The body was bigger than `capacity`: only that many bytes are kept. */
  truncated = false;
  private phase = PHASE_TYPE;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.buf = packetBytes(capacity);
    this.storage = this.buf.buffer as ArrayBuffer;
  }

  get type(): number { return this.first >> 4; }
  get flags(): number { return this.first & 15; }
  /** Bytes of the body kept in `buf`. */
  get stored(): number { return this.length < this.capacity ? this.length : this.capacity; }

  reset(): void {
    this.phase = PHASE_TYPE;
    this.first = this.length = this.received = this.lengthBytes = 0;
    this.multiplier = 1;
    this.truncated = false;
  }

  /** Header byte handling shared by pull and push: returns NeedMore, Complete or -ErrorCode. */
  private headerByte(b: number): number {
    if (this.phase === PHASE_TYPE) {
      this.first = b;
      this.phase = PHASE_LENGTH;
      return ReadStatus.NeedMore;
    }
    this.length += (b & 127) * this.multiplier;
    this.multiplier *= 128;
    if (++this.lengthBytes > 4 || (this.lengthBytes === 4 && b > 127)) return -ErrorCode.MalformedLength;
    if (b & 128) return ReadStatus.NeedMore;
    this.truncated = this.length > this.capacity;
    this.phase = PHASE_BODY;
    return this.length === 0 ? this.finish() : ReadStatus.NeedMore;
  }

  private finish(): number {
    this.phase = PHASE_DONE;
    return ReadStatus.Complete;
  }

  /** Reads from `src` until a packet completes or the source is empty. */
  pull(src: ByteSource): number {
    if (this.phase === PHASE_DONE) this.reset();
    // `available` asked once: each read below takes exactly what it returns from it.
    let available = src.available();
    while (this.phase !== PHASE_BODY) {
      if (available === 0) return ReadStatus.NeedMore;
      available--;
      const s = this.headerByte(src.readByte());
      if (s !== ReadStatus.NeedMore) return s;
    }
    while (available > 0) {
      const cap = this.capacity, received = this.received, length = this.length;
      let n: number;
      if (received === 0 && available >= length && length <= cap) {
        // The whole body is there: the buffer takes its size and the transport fills it in one native read.
        this.storage.resize(length);
        src.readAll(this.buf);
        n = length;
      } else if (received < cap) {
        if (received === 0) this.storage.resize(cap);
        n = src.readInto(this.buf, received, (length < cap ? length : cap) - received);
      } else n = src.skip(length - received); // beyond capacity: skipped
      if (n <= 0) break; // the source had less than it said
      this.received = received + n;
      available -= n;
      if (this.received === this.length) return this.finish();
    }
    return ReadStatus.NeedMore;
  }

}

/** One decoded packet: numbers and offsets into the reader's buffer, reused for every packet. */
export class Packet {
  /** Decode as MQTT 5.0 (set by the session for a 5.0 connection). */
  v5 = false;
  type = 0;
  flags = 0;
  dup = false;
  qos = 0;
  retain = false;
  packetId = 0;
  /** CONNACK */
  sessionPresent = false;
  returnCode = 0;
  /** PUBLISH: topic bytes and payload bytes in `buf`. */
  topicStart = 0;
  topicEnd = 0;
  payloadStart = 0;
  payloadEnd = 0;
  /** SUBACK return codes (5.0: SUBACK and UNSUBACK reason codes) are bytes payloadStart..payloadEnd. */
  /** The buffer the offsets point into. */
  buf: Uint8Array = EMPTY;
  /**
   * The buffer holding the topic bytes at topicStart..topicEnd: `buf`, or (MQTT 5.0) the session's topic alias
   * table when the PUBLISH came with an alias only.
   */
  topicBuf: Uint8Array = EMPTY;
  // MQTT 5.0
  /** CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT, AUTH: the reason code (0 when left out). */
  reasonCode = 0;
  /** The property block: buf[propertiesStart, propertiesEnd) (empty in 3.1.1). */
  propertiesStart = 0;
  propertiesEnd = 0;
  /** What the decoder found among the properties; made at the first 5.0 decode (see `received`). */
  found: FoundProperties | undefined = undefined;
  /** `found`, made if need be. */
  get received(): FoundProperties { return this.found ??= new FoundProperties(); }
  // The properties found, read through `found` (getters live on the prototype, in flash: no slots per packet).
  /** Payload Format Indicator (-1 absent). */
  get payloadFormat(): number { const f = this.found; return f === undefined ? -1 : f.payloadFormat; }
  /** Message Expiry Interval, seconds (-1 absent). */
  get messageExpiry(): number { const f = this.found; return f === undefined ? -1 : f.messageExpiry; }
  /** Offsets in buf of the length-prefixed Content Type, Response Topic, Correlation Data, Reason String (-1 absent). */
  get contentTypeAt(): number { const f = this.found; return f === undefined ? -1 : f.contentTypeAt; }
  get responseTopicAt(): number { const f = this.found; return f === undefined ? -1 : f.responseTopicAt; }
  get correlationDataAt(): number { const f = this.found; return f === undefined ? -1 : f.correlationDataAt; }
  get reasonStringAt(): number { const f = this.found; return f === undefined ? -1 : f.reasonStringAt; }
  /** Topic Alias of a PUBLISH (0: none). */
  get topicAlias(): number { const f = this.found; return f === undefined ? 0 : f.topicAlias; }
  /** Subscription Identifiers of a PUBLISH: how many, and the first (0: none). */
  get subscriptionIds(): number { const f = this.found; return f === undefined ? 0 : f.subscriptionIds; }
  get subscriptionId(): number { const f = this.found; return f === undefined ? 0 : f.subscriptionId; }
  get userPropertyCount(): number { const f = this.found; return f === undefined ? 0 : f.userPropertyCount; }
}

const EMPTY = new Uint8Array(0);

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Clears what a 5.0 decode may set, so a 3.1.1-looking packet reads as "no properties". */
function clearProperties(p: Packet, at: number): void {
  p.reasonCode = 0;
  p.propertiesStart = p.propertiesEnd = at;
  const f = p.received;
  f.payloadFormat = f.messageExpiry = f.contentTypeAt = f.responseTopicAt = f.correlationDataAt = f.reasonStringAt = -1;
  f.topicAlias = f.subscriptionIds = f.subscriptionId = f.userPropertyCount = 0;
}

/** Reads the property block whose length is at b[o] (within `end`) into p for a packet of `type`: its end offset or -ErrorCode. */
function properties5(b: Uint8Array, o: number, end: number, type: number, p: Packet): number {
  const n = readVarint(b, o, end);
  if (n < 0) return -ErrorCode.MalformedPacket;
  const s = o + varintSize(n), e = s + n;
  if (e > end) return -ErrorCode.MalformedPacket;
  p.propertiesStart = s;
  p.propertiesEnd = e;
  const status = checkProperties(b, s, e, type, p.received);
  return status < 0 ? status : e;
}

/** 3.1.1 CONNACK return codes as 5.0 reason codes: what a 3.1.1-only broker answers a 5.0 CONNECT with. */
const CONNACK_AS_REASON: readonly number[] = Object.freeze([0, 0x84, 0x85, 0x88, 0x86, 0x87]);

/** MQTT 5.0 packets other than PUBLISH (decode reads those for both versions). */
function decode5(b: Uint8Array, type: number, flags: number, len: number, truncated: boolean, p: Packet): number {
  clearProperties(p, 0);
  if (truncated) return -ErrorCode.PacketTooLarge; // only a PUBLISH can be read in part
  switch (type) {
    case PacketType.CONNACK: {
      if (flags !== 0 || len < 2 || (b[0] & 0xfe) !== 0) return -ErrorCode.MalformedPacket;
      p.sessionPresent = (b[0] & 1) === 1;
      const code = b[1];
      if (len === 2) {
        // A 3.1.1 broker refusing 5.0 answers in 3.1.1 (no properties): read it as what it means.
        if (code === 0 || code > 5 || p.sessionPresent) return -ErrorCode.MalformedPacket;
        p.returnCode = code;
        p.reasonCode = CONNACK_AS_REASON[code];
        return 0;
      }
      if (code !== 0 && (code < 0x80 || !isReasonCode(code) || p.sessionPresent)) return -ErrorCode.MalformedPacket;
      p.returnCode = p.reasonCode = code;
      const e = properties5(b, 2, len, type, p);
      return e < 0 ? e : e !== len ? -ErrorCode.MalformedPacket : 0;
    }
    case PacketType.PUBACK: case PacketType.PUBREC: case PacketType.PUBCOMP: case PacketType.PUBREL: {
      if (flags !== (type === PacketType.PUBREL ? 2 : 0) || len < 2) return -ErrorCode.MalformedPacket;
      p.packetId = u16(b, 0);
      if (p.packetId === 0) return -ErrorCode.MalformedPacket;
      if (len === 2) return 0;
      const code = p.reasonCode = b[2];
      // PUBREL and PUBCOMP: Success or Packet Identifier not found; PUBACK and PUBREC: success, 0x10 or an error.
      if (type === PacketType.PUBREL || type === PacketType.PUBCOMP ? code !== 0 && code !== 0x92
        : code !== 0 && code !== 0x10 && (code < 0x80 || code === 0x92 || !isReasonCode(code))) return -ErrorCode.MalformedPacket;
      if (len === 3) return 0;
      const e = properties5(b, 3, len, type, p);
      return e < 0 ? e : e !== len ? -ErrorCode.MalformedPacket : 0;
    }
    case PacketType.SUBACK: case PacketType.UNSUBACK: {
      if (flags !== 0 || len < 3) return -ErrorCode.MalformedPacket;
      p.packetId = u16(b, 0);
      if (p.packetId === 0) return -ErrorCode.MalformedPacket;
      const e = properties5(b, 2, len, type, p);
      if (e < 0) return e;
      if (e >= len) return -ErrorCode.MalformedPacket; // at least one reason code
      for (let i = e; i < len; i++) {
        const c = b[i];
        if (type === PacketType.SUBACK ? c > 2 && (c < 0x80 || !isReasonCode(c)) : c !== 0 && c !== 0x11 && (c < 0x80 || !isReasonCode(c)))
          return -ErrorCode.MalformedPacket;
      }
      p.payloadStart = e;
      p.payloadEnd = len;
      p.reasonCode = b[e];
      return 0;
    }
    case PacketType.DISCONNECT: case PacketType.AUTH: {
      if (flags !== 0) return -ErrorCode.MalformedPacket;
      if (len === 0) return 0;
      const code = p.reasonCode = b[0];
      if (type === PacketType.AUTH ? code !== 0 && code !== 0x18 && code !== 0x19 : !isReasonCode(code) || (code > 0 && code < 0x80 && code !== 0x04))
        return -ErrorCode.MalformedPacket;
      if (len === 1) return 0;
      const e = properties5(b, 1, len, type, p);
      return e < 0 ? e : e !== len ? -ErrorCode.MalformedPacket : 0;
    }
    case PacketType.CONNECT: case PacketType.SUBSCRIBE: case PacketType.UNSUBSCRIBE:
      return -ErrorCode.ProtocolViolation;
    case PacketType.PINGREQ: case PacketType.PINGRESP:
      return flags !== 0 || len !== 0 ? -ErrorCode.MalformedPacket : 0;
    default:
      return -ErrorCode.MalformedPacket; // type 0 is reserved
  }
}


/**
 * Validates and decodes the packet the reader completed into `p`. Returns 0 or -ErrorCode.
 * A truncated PUBLISH decodes its topic and packet id only (payload empty) and returns -PacketTooLarge.
 */
export function decode(r: PacketReader, p: Packet): number {
  const b = r.buf, first = r.first, type = first >> 4, flags = first & 15, len = r.length, truncated = r.truncated;
  const end = len < b.length ? len : b.length;
  // The topic is in `b` unless a 5.0 session pointed topicBuf at its alias table (it points it back first thing
  // for the next PUBLISH). Compared, not stored, per packet: the store cost 5 XS instructions a message.
  if (p.buf !== b) p.buf = p.topicBuf = b;
  p.type = type;
  p.flags = flags;
  p.dup = false; p.qos = 0; p.retain = false; p.packetId = 0;
  p.payloadStart = p.payloadEnd = p.topicStart = p.topicEnd = 0;
  const v5 = p.v5;
  // PUBLISH first and a plain number: XS evaluates `case` expressions in order, each a lookup.
  if (type === PUBLISH) {
    const qos = (flags >> 1) & 3, dup = (flags & 8) !== 0;
    p.dup = dup;
    p.qos = qos;
    p.retain = (flags & 1) !== 0;
    if (qos === 3) return -ErrorCode.MalformedPacket;
    if (qos === 0 && dup) return -ErrorCode.MalformedPacket; // MQTT-3.3.1-2
    const te = end < 2 ? -1 : 2 + ((b[0] << 8) | b[1]);
    if (te < 0 || te > end) return truncated ? -ErrorCode.PacketTooLarge : -ErrorCode.MalformedPacket;
    p.topicStart = 2;
    p.topicEnd = te;
    if (te === 2 && !v5) return -ErrorCode.MalformedPacket; // (5.0: allowed with a topic alias)
    // One pass for an ASCII topic; full UTF-8 validation only when a byte needs it. Wildcards: MQTT-3.3.2-2.
    // Inline, not a function: a call costs 31 XS instructions per message. Loop variables declared outside: XS
    // makes a new binding per iteration for `for (let ...)`.
    let wildcard = false, ascii = true, i = 2, c = 0;
    for (; i < te; i++) {
      c = b[i];
      if (c < 0x30) {
        if (c === 0x2b || c === 0x23) wildcard = true;
        else if (c === 0) ascii = false;
      } else if (c >= 0x80) ascii = false;
    }
    if (!ascii && !validUtf8(b, 2, te)) return -ErrorCode.BadUtf8;
    if (wildcard) return -ErrorCode.MalformedPacket;
    let o = te;
    if (qos > 0) {
      if (o + 2 > end) return truncated ? -ErrorCode.PacketTooLarge : -ErrorCode.MalformedPacket;
      const id = (b[o] << 8) | b[o + 1];
      if (id === 0) return -ErrorCode.MalformedPacket;
      p.packetId = id;
      o += 2;
    }
    if (v5) {
      o = properties5(b, o, end, type, p); // (sets every property field: no clearProperties here)
      if (o < 0) return truncated && o === -ErrorCode.MalformedPacket ? -ErrorCode.PacketTooLarge : o;
      if (te === 2 && p.found!.topicAlias === 0) return -ErrorCode.MalformedPacket; // no topic and no alias (MQTT-3.3.4-8)
    }
    if (o > len) return -ErrorCode.MalformedPacket;
    p.payloadStart = o;
    p.payloadEnd = truncated ? o : len;
    return truncated ? -ErrorCode.PacketTooLarge : 0;
  }
  if (v5) return decode5(b, type, flags, len, truncated, p);
  switch (type) {
    case PacketType.CONNACK:
      if (flags !== 0 || len !== 2) return -ErrorCode.MalformedPacket;
      if (truncated) return -ErrorCode.PacketTooLarge; // rxBuffer < 2: the body is not all there
      if ((b[0] & 0xfe) !== 0) return -ErrorCode.MalformedPacket;
      p.sessionPresent = (b[0] & 1) === 1;
      p.returnCode = b[1];
      if (p.returnCode > 5 || (p.returnCode !== 0 && p.sessionPresent)) return -ErrorCode.MalformedPacket;
      return 0;
    case PacketType.PUBACK: case PacketType.PUBREC: case PacketType.PUBCOMP: case PacketType.UNSUBACK:
    case PacketType.PUBREL:
      if (flags !== (type === PacketType.PUBREL ? 2 : 0) || len !== 2) return -ErrorCode.MalformedPacket;
      if (r.truncated) return -ErrorCode.PacketTooLarge;
      p.packetId = u16(b, 0);
      return p.packetId === 0 ? -ErrorCode.MalformedPacket : 0;
    case PacketType.SUBACK: {
      if (flags !== 0 || len < 3) return -ErrorCode.MalformedPacket;
      if (r.truncated) return -ErrorCode.PacketTooLarge;
      p.packetId = u16(b, 0);
      if (p.packetId === 0) return -ErrorCode.MalformedPacket;
      for (let i = 2; i < len; i++) { const c = b[i]; if (c > 2 && c !== 0x80) return -ErrorCode.MalformedPacket; }
      p.payloadStart = 2;
      p.payloadEnd = len;
      return 0;
    }
    case PacketType.CONNECT: case PacketType.SUBSCRIBE: case PacketType.UNSUBSCRIBE:
      return -ErrorCode.ProtocolViolation; // only clients send these: a device never decodes them
    case PacketType.PINGREQ: case PacketType.PINGRESP: case PacketType.DISCONNECT:
      return flags !== 0 || len !== 0 ? -ErrorCode.MalformedPacket : 0;
    default:
      return -ErrorCode.MalformedPacket; // 0 and 15 are reserved in 3.1.1
  }
}
