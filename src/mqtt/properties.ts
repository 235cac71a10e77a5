// MQTT 5.0 properties (section 2.2.2): their ids, the option objects an application passes (MQTT.js's names),
// encoding those objects, and checking and reading a received property block in place, by offset.
// Encoding an object walks its strings (it allocates in XS): CONNECT, DISCONNECT and AUTH are rare, and a
// publish's properties can be encoded once into a `Properties` and then copied natively per message.
import { ErrorCode, MQTTError, type ErrorCodeValue } from "./errors";
import { utf8Length, validUtf8, writeUtf8 } from "./utf8";

export const Property = Object.freeze({
  PayloadFormatIndicator: 0x01, MessageExpiryInterval: 0x02, ContentType: 0x03, ResponseTopic: 0x08,
  CorrelationData: 0x09, SubscriptionIdentifier: 0x0b, SessionExpiryInterval: 0x11, AssignedClientIdentifier: 0x12,
  ServerKeepAlive: 0x13, AuthenticationMethod: 0x15, AuthenticationData: 0x16, RequestProblemInformation: 0x17,
  WillDelayInterval: 0x18, RequestResponseInformation: 0x19, ResponseInformation: 0x1a, ServerReference: 0x1c,
  ReasonString: 0x1f, ReceiveMaximum: 0x21, TopicAliasMaximum: 0x22, TopicAlias: 0x23, MaximumQoS: 0x24,
  RetainAvailable: 0x25, UserProperty: 0x26, MaximumPacketSize: 0x27, WildcardSubscriptionAvailable: 0x28,
  SubscriptionIdentifierAvailable: 0x29, SharedSubscriptionAvailable: 0x2a,
} as const);

/** User properties: name → value, or several values for a name that repeats (order kept per name). */
export type UserProperties = Record<string, string | string[]>;

export interface ConnectProperties {
  /** Seconds the broker keeps the session after the connection ends (0: ends with it; 0xFFFFFFFF: never expires). */
  sessionExpiryInterval?: number;
  /** Incoming QoS 1/2 publishes the broker may have unacknowledged at once (default: inflightIn). */
  receiveMaximum?: number;
  /** Largest packet we accept, bytes (default: what rxBuffer holds; 0: do not tell the broker). */
  maximumPacketSize?: number;
  /** Topic aliases the broker may use towards us (default 8; 0: none). */
  topicAliasMaximum?: number;
  requestResponseInformation?: boolean;
  requestProblemInformation?: boolean;
  userProperties?: UserProperties;
  /** Enhanced authentication (4.12): the method's name; the exchange goes through `onAuth`. */
  authenticationMethod?: string;
  authenticationData?: Uint8Array | string;
}

export interface MessageProperties {
  /** Seconds until the message expires undelivered. */
  messageExpiryInterval?: number;
  /** The payload is UTF-8 text (checked before sending). */
  payloadFormatIndicator?: boolean;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array | string;
  userProperties?: UserProperties;
}

export interface WillProperties extends MessageProperties {
  /** Seconds the broker waits after the connection ends before publishing the will. */
  willDelayInterval?: number;
}

/** Properties of a PUBLISH. Topic aliases are the client's business, not the application's. */
export type PublishProperties = MessageProperties;

export interface DisconnectProperties {
  /** May change the session's expiry only if CONNECT gave it one above 0 (MQTT-3.14.2-2). */
  sessionExpiryInterval?: number;
  reasonString?: string;
  userProperties?: UserProperties;
}

export interface SubscribeProperties {
  subscriptionIdentifier?: number;
  userProperties?: UserProperties;
}

// Value kinds.
const BYTE = 1, U16 = 2, U32 = 3, VARINT = 4, UTF8 = 5, BINARY = 6, PAIR = 7;

/** An option object's key, its property id and its kind, in the order they are written. */
type Field = readonly [string, number, number];
const CONNECT_FIELDS: readonly Field[] = Object.freeze([
  Object.freeze(["sessionExpiryInterval", 0x11, U32] as const), Object.freeze(["receiveMaximum", 0x21, U16] as const),
  Object.freeze(["maximumPacketSize", 0x27, U32] as const), Object.freeze(["topicAliasMaximum", 0x22, U16] as const),
  Object.freeze(["requestResponseInformation", 0x19, BYTE] as const), Object.freeze(["requestProblemInformation", 0x17, BYTE] as const),
  Object.freeze(["authenticationMethod", 0x15, UTF8] as const), Object.freeze(["authenticationData", 0x16, BINARY] as const),
  Object.freeze(["userProperties", 0x26, PAIR] as const),
]);
const MESSAGE_FIELDS: readonly Field[] = Object.freeze([
  Object.freeze(["willDelayInterval", 0x18, U32] as const), Object.freeze(["payloadFormatIndicator", 0x01, BYTE] as const),
  Object.freeze(["messageExpiryInterval", 0x02, U32] as const), Object.freeze(["contentType", 0x03, UTF8] as const),
  Object.freeze(["responseTopic", 0x08, UTF8] as const), Object.freeze(["correlationData", 0x09, BINARY] as const),
  Object.freeze(["userProperties", 0x26, PAIR] as const),
]);
const DISCONNECT_FIELDS: readonly Field[] = Object.freeze([
  Object.freeze(["sessionExpiryInterval", 0x11, U32] as const), Object.freeze(["reasonString", 0x1f, UTF8] as const),
  Object.freeze(["userProperties", 0x26, PAIR] as const),
]);
const SUBSCRIBE_FIELDS: readonly Field[] = Object.freeze([
  Object.freeze(["subscriptionIdentifier", 0x0b, VARINT] as const), Object.freeze(["userProperties", 0x26, PAIR] as const),
]);

const AUTH_FIELDS: readonly Field[] = Object.freeze([
  Object.freeze(["authenticationMethod", 0x15, UTF8] as const), Object.freeze(["authenticationData", 0x16, BINARY] as const),
  Object.freeze(["reasonString", 0x1f, UTF8] as const), Object.freeze(["userProperties", 0x26, PAIR] as const),
]);

export interface AuthProperties {
  authenticationMethod?: string;
  authenticationData?: Uint8Array | string;
  reasonString?: string;
  userProperties?: UserProperties;
}

/** Which option keys a kind of property object may hold. */
export const PropertySet = Object.freeze({ Connect: 0, Will: 1, Publish: 2, Disconnect: 3, Subscribe: 4, Auth: 5 } as const);
const SETS: readonly (readonly Field[])[] = Object.freeze([CONNECT_FIELDS, MESSAGE_FIELDS, MESSAGE_FIELDS, DISCONNECT_FIELDS, SUBSCRIBE_FIELDS, AUTH_FIELDS]);
const SET_NAMES: readonly string[] = Object.freeze(["CONNECT", "will", "PUBLISH", "DISCONNECT", "SUBSCRIBE", "AUTH"]);

/** Bytes the variable byte integer `n` takes. */
export function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/** Writes the variable byte integer `n` (at most 268435455) at buf[o]; returns the offset after it. */
export function writeVarint(buf: Uint8Array, o: number, n: number): number {
  do {
    let b = n & 127;
    n >>>= 7; // at most 2^28: shifts are exact
    if (n > 0) b |= 128;
    buf[o++] = b;
  } while (n > 0);
  return o;
}

/**
 * The variable byte integer at buf[o] (ending before `end`), or -1 if it runs past `end`, over 4 bytes, or is
 * not in its shortest form (MQTT-1.5.5-1). It ends at o + varintSize(value).
 */
export function readVarint(buf: Uint8Array, o: number, end: number): number {
  let n = 0, mul = 1, i = 0;
  for (; i < 4; i++) {
    if (o + i >= end) return -1;
    const b = buf[o + i];
    n += (b & 127) * mul;
    if ((b & 128) === 0) return varintSize(n) === i + 1 ? n : -1;
    mul *= 128;
  }
  return -1;
}

function fail(code: ErrorCodeValue, what: string): never {
  throw new MQTTError(code, what);
}

function userPairs(v: UserProperties, set: string): number {
  if (v === null || typeof v !== "object") fail(ErrorCode.BadArgument, `${set} userProperties must be an object of name: value strings`);
  let n = 0;
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) {
    const values = v[keys[i]], list = Array.isArray(values) ? values : [values];
    const kl = utf8Length(keys[i]);
    for (let j = 0; j < list.length; j++) {
      const vl = typeof list[j] === "string" ? utf8Length(list[j]) : -1;
      if (kl < 0 || vl < 0 || kl > 65535 || vl > 65535)
        fail(ErrorCode.BadUtf8, `${set} user property "${keys[i]}" needs a name and a string value of valid UTF-8 up to 65535 bytes`);
      n += 5 + kl + vl;
    }
  }
  return n;
}

function binaryLength(v: Uint8Array | string): number {
  return typeof v === "string" ? utf8Length(v) : v instanceof Uint8Array ? v.length : -1;
}

/**
 * Checks `props` against what a property set allows and returns its encoded size (without the length prefix).
 * Throws MQTTError(BadArgument/BadUtf8) naming the property and what is wrong.
 */
export function propertiesLength(props: object | undefined, set: number): number {
  if (props === undefined) return 0;
  if (props === null || typeof props !== "object") fail(ErrorCode.BadArgument, `${SET_NAMES[set]} properties must be an object`);
  const fields = SETS[set], record = props as Record<string, unknown>, keys = Object.keys(props);
  for (let i = 0; i < keys.length; i++) {
    let known = false;
    for (let j = 0; j < fields.length; j++) if (fields[j][0] === keys[i] && (set !== PropertySet.Publish || keys[i] !== "willDelayInterval")) known = true;
    if (!known && record[keys[i]] !== undefined)
      fail(ErrorCode.BadArgument, keys[i] === "topicAlias" ? "topicAlias is not an option: the client gives the most used topics aliases itself"
        : `"${keys[i]}" is not a ${SET_NAMES[set]} property`);
  }
  if (record.authenticationData !== undefined && record.authenticationMethod === undefined)
    fail(ErrorCode.BadArgument, `${SET_NAMES[set]} authenticationData needs an authenticationMethod (3.1.2.11.10)`);
  let n = 0;
  for (let j = 0; j < fields.length; j++) {
    const [key, , kind] = fields[j], v = record[key];
    if (v === undefined) continue;
    const what = `${SET_NAMES[set]} property ${key}`;
    switch (kind) {
      case BYTE:
        if (typeof v !== "boolean") fail(ErrorCode.BadArgument, `${what} must be true or false`);
        n += 2; break;
      case U16:
        if (!(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535)) fail(ErrorCode.BadArgument, `${what} must be an integer 1..65535, not ${v}`);
        n += 3; break;
      case U32:
        if (!(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff)) fail(ErrorCode.BadArgument, `${what} must be an integer 0..4294967295, not ${v}`);
        if (key === "maximumPacketSize" && v === 0) fail(ErrorCode.BadArgument, `${what} must be at least 1`);
        n += 5; break;
      case VARINT:
        if (!(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 268435455)) fail(ErrorCode.BadArgument, `${what} must be an integer 1..268435455, not ${v}`);
        n += 1 + varintSize(v as number); break;
      case UTF8: {
        const l = typeof v === "string" ? utf8Length(v) : -1;
        if (l < 0 || l > 65535) fail(ErrorCode.BadUtf8, `${what} must be a string of valid UTF-8 up to 65535 bytes`);
        if (key === "responseTopic" && (l === 0 || (v as string).indexOf("+") >= 0 || (v as string).indexOf("#") >= 0))
          fail(ErrorCode.BadTopic, `${what} "${v}" must be a topic name, without wildcards (MQTT-3.3.2-14)`);
        n += 3 + l; break;
      }
      case BINARY: {
        const l = binaryLength(v as Uint8Array | string);
        if (l < 0 || l > 65535) fail(ErrorCode.BadArgument, `${what} must be bytes or a string, up to 65535 bytes`);
        n += 3 + l; break;
      }
      default: n += userPairs(v as UserProperties, SET_NAMES[set]);
    }
  }
  return n;
}

function writeU16(buf: Uint8Array, o: number, v: number): number {
  buf[o] = v >> 8; buf[o + 1] = v & 255;
  return o + 2;
}

function writeStr(buf: Uint8Array, o: number, s: string): number {
  const e = writeUtf8(buf, o + 2, s);
  writeU16(buf, o, e - o - 2);
  return e;
}

/** Writes `props` (already measured by propertiesLength) at buf[o]; returns the offset after them. */
export function writeProperties(buf: Uint8Array, o: number, props: object | undefined, set: number): number {
  if (props === undefined) return o;
  const fields = SETS[set], record = props as Record<string, unknown>;
  for (let j = 0; j < fields.length; j++) {
    const [key, id, kind] = fields[j], v = record[key];
    if (v === undefined || (set === PropertySet.Publish && id === 0x18)) continue;
    if (kind === PAIR) {
      const pairs = v as UserProperties, keys = Object.keys(pairs);
      for (let i = 0; i < keys.length; i++) {
        const values = pairs[keys[i]], list = Array.isArray(values) ? values : [values];
        for (let k = 0; k < list.length; k++) {
          buf[o++] = id;
          o = writeStr(buf, o, keys[i]);
          o = writeStr(buf, o, list[k]);
        }
      }
      continue;
    }
    buf[o++] = id;
    switch (kind) {
      case BYTE: buf[o++] = v ? 1 : 0; break;
      case U16: o = writeU16(buf, o, v as number); break;
      case U32: buf[o++] = (v as number) >>> 24; buf[o++] = ((v as number) >>> 16) & 255; o = writeU16(buf, o, (v as number) & 0xffff); break;
      case VARINT: o = writeVarint(buf, o, v as number); break;
      case UTF8: o = writeStr(buf, o, v as string); break;
      default:
        if (typeof v === "string") o = writeStr(buf, o, v);
        else { o = writeU16(buf, o, (v as Uint8Array).length); buf.set(v as Uint8Array, o); o += (v as Uint8Array).length; }
    }
  }
  return o;
}

/** A property block measured and written whole: for the rare packets (CONNECT, DISCONNECT, AUTH, SUBSCRIBE). */
export function encodedProperties(props: object | undefined, set: number): Uint8Array {
  const b = new Uint8Array(propertiesLength(props, set));
  writeProperties(b, 0, props, set);
  return b;
}

/**
 * A PUBLISH's properties encoded once: keep it and pass it to every publish that uses them, which then copies
 * its bytes natively and allocates nothing.
 */
export class Properties {
  /** The encoded property block, without its length prefix. */
  readonly bytes: Uint8Array;
  /** payloadFormatIndicator was set: payloads sent with these properties must be valid UTF-8. */
  readonly utf8: boolean;

  constructor(props: PublishProperties) {
    this.bytes = encodedProperties(props, PropertySet.Publish);
    this.utf8 = props.payloadFormatIndicator === true;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a received block

/** Kind of each property id (0: not a property). */
const KIND: readonly number[] = Object.freeze([
  0, BYTE, U32, UTF8, 0, 0, 0, 0, UTF8, BINARY, 0, VARINT, 0, 0, 0, 0, 0, U32, UTF8, U16, 0, UTF8, BINARY, BYTE, U32, BYTE,
  UTF8, 0, UTF8, 0, 0, UTF8, 0, U16, U16, U16, BYTE, BYTE, PAIR, U32, BYTE, BYTE, BYTE,
]);

/**
 * Packets each property may appear in: bit = packet type (1 CONNECT ... 15 AUTH), bit 0 = will properties
 * (spec 2.2.2.2).
 */
const CONNECT = 1 << 1, CONNACK = 1 << 2, PUBLISH = 1 << 3, PUBACKS = 0xf << 4, SUBSCRIBE = 1 << 8, SUBACK = 1 << 9,
  UNSUBSCRIBE = 1 << 10, UNSUBACK = 1 << 11, DISCONNECT = 1 << 14, AUTH = 1 << 15, WILL = 1;
const WHERE: readonly number[] = Object.freeze([
  0, PUBLISH | WILL, PUBLISH | WILL, PUBLISH | WILL, 0, 0, 0, 0, PUBLISH | WILL, PUBLISH | WILL, 0, PUBLISH | SUBSCRIBE,
  0, 0, 0, 0, 0, CONNECT | CONNACK | DISCONNECT, CONNACK, CONNACK, 0, CONNECT | CONNACK | AUTH, CONNECT | CONNACK | AUTH,
  CONNECT, WILL, CONNECT, CONNACK, 0, CONNACK | DISCONNECT, 0, 0,
  CONNACK | PUBACKS | SUBACK | UNSUBACK | DISCONNECT | AUTH, 0, CONNECT | CONNACK, CONNECT | CONNACK, PUBLISH, CONNACK, CONNACK,
  0xffff, CONNECT | CONNACK, CONNACK, CONNACK, CONNACK,
]);

/**
 * The property value at buf[o] of kind KIND[id]: its end offset, or a negative ErrorCode (runs past `end`,
 * a value out of range, invalid UTF-8).
 */
function valueEnd(buf: Uint8Array, o: number, end: number, id: number): number {
  switch (KIND[id]) {
    case BYTE:
      if (o >= end) return -ErrorCode.MalformedPacket;
      // Every byte property is 0 or 1 (Maximum QoS too: 2 is said by leaving it out).
      return buf[o] > 1 ? -ErrorCode.MalformedPacket : o + 1;
    case U16:
      if (o + 2 > end) return -ErrorCode.MalformedPacket;
      // Topic Alias, Receive Maximum and Topic Alias Maximum... only the first two must not be 0.
      if ((id === 0x23 || id === 0x21) && buf[o] === 0 && buf[o + 1] === 0) return -ErrorCode.MalformedPacket;
      return o + 2;
    case U32:
      if (o + 4 > end) return -ErrorCode.MalformedPacket;
      if (id === 0x27 && buf[o] === 0 && buf[o + 1] === 0 && buf[o + 2] === 0 && buf[o + 3] === 0) return -ErrorCode.MalformedPacket;
      return o + 4;
    case VARINT: {
      const v = readVarint(buf, o, end);
      return v <= 0 ? -ErrorCode.MalformedPacket : o + varintSize(v);
    }
    case UTF8: case BINARY: {
      if (o + 2 > end) return -ErrorCode.MalformedPacket;
      const e = o + 2 + ((buf[o] << 8) | buf[o + 1]);
      if (e > end) return -ErrorCode.MalformedPacket;
      return KIND[id] === UTF8 && !validUtf8(buf, o + 2, e) ? -ErrorCode.BadUtf8 : e;
    }
    default: { // a UTF-8 string pair
      const k = valueEnd(buf, o, end, 0x1f);
      return k < 0 ? k : valueEnd(buf, k, end, 0x1f);
    }
  }
}

/**
 * What checkProperties found in a block (offsets are of values' length prefixes; -1 absent). A packet makes one
 * at its first MQTT 5.0 decode: a 3.1.1 client does not carry these 10 slots.
 */
export class FoundProperties {
  payloadFormat = -1;
  messageExpiry = -1;
  contentTypeAt = -1;
  responseTopicAt = -1;
  correlationDataAt = -1;
  reasonStringAt = -1;
  topicAlias = 0;
  subscriptionIds = 0;
  subscriptionId = 0;
  userPropertyCount = 0;
}

/**
 * Checks the property block buf[start, end) of a packet of `type` (0: will properties): every id allowed
 * there, no single-valued property twice, every value in range. Fills `f`. Returns 0 or -ErrorCode.
 */
export function checkProperties(buf: Uint8Array, start: number, end: number, type: number, f: FoundProperties): number {
  const mask = type === 0 ? WILL : 1 << type;
  f.payloadFormat = f.messageExpiry = f.contentTypeAt = f.responseTopicAt = f.correlationDataAt = f.reasonStringAt = -1;
  f.topicAlias = f.subscriptionIds = f.subscriptionId = f.userPropertyCount = 0;
  let seenLow = 0, seenHigh = 0, o = start;
  while (o < end) {
    const id = buf[o++];
    if (id > 0x2a || (WHERE[id] & mask) === 0) return -ErrorCode.MalformedPacket;
    const e = valueEnd(buf, o, end, id);
    if (e < 0) return e;
    if (id === 0x26) f.userPropertyCount++;
    else if (id === 0x0b) {
      if (f.subscriptionIds++ === 0) f.subscriptionId = readVarint(buf, o, end);
    } else {
      // Single-valued: a second one is a protocol error (2.2.2.2).
      const bit = 1 << (id & 31);
      if (id < 32) { if (seenLow & bit) return -ErrorCode.MalformedPacket; seenLow |= bit; }
      else { if (seenHigh & bit) return -ErrorCode.MalformedPacket; seenHigh |= bit; }
      switch (id) {
        case 0x01: f.payloadFormat = buf[o]; break;
        case 0x02: f.messageExpiry = readU32(buf, o); break;
        case 0x03: f.contentTypeAt = o; break;
        case 0x08: f.responseTopicAt = o; break;
        case 0x09: f.correlationDataAt = o; break;
        case 0x1f: f.reasonStringAt = o; break;
        case 0x23: f.topicAlias = (buf[o] << 8) | buf[o + 1]; break;
      }
    }
    o = e;
  }
  return 0;
}

/** Offset of the value of the first property `id` in buf[start, end) (a checked block), or -1. */
export function findProperty(buf: Uint8Array, start: number, end: number, id: number): number {
  let o = start;
  while (o < end) {
    const p = buf[o++];
    if (p === id) return o;
    o = valueEnd(buf, o, end, p);
    if (o < 0) return -1;
  }
  return -1;
}

/** The 4-byte integer at buf[o]. */
export function readU32(buf: Uint8Array, o: number): number {
  return ((buf[o] << 24) >>> 0) + ((buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]);
}

/** The end of the length-prefixed string or binary at buf[o]. */
export function fieldEnd(buf: Uint8Array, o: number): number {
  return o + 2 + ((buf[o] << 8) | buf[o + 1]);
}

/** Calls `each(name start, name end, value start, value end)` for every user property in a checked block. */
export function forEachUserProperty(buf: Uint8Array, start: number, end: number, each: (ks: number, ke: number, vs: number, ve: number) => void): void {
  let o = start;
  while (o < end) {
    const id = buf[o++];
    if (id === 0x26) {
      const ke = fieldEnd(buf, o), ve = fieldEnd(buf, ke);
      each(o + 2, ke, ke + 2, ve);
      o = ve;
    } else o = valueEnd(buf, o, end, id);
    if (o < 0) return;
  }
}
