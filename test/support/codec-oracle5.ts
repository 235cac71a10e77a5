// MQTT 5.0 counterpart of codec-oracle.ts: one neutral "Fields5" shape (mqtt-packet's v5 objects with bytes as
// number[]), converters to and from mqtt-packet (the independent oracle), and our decoded Packet read back
// through a property-block walker written here from the spec (2.2.2), not from src/.
import mqttPacket from "mqtt-packet";
import type { Packet as MqttPacket } from "mqtt-packet";
import {
  PacketType, SubscribeOption, encodeAck, encodeAckReason, encodeConnect, encodeEmpty, encodePublish, encodeReasonPacket, encodeSubscribe, encodeUnsubscribe,
  type ConnectOptions, type Packet,
} from "../../src/mqtt/codec.ts";
import { Properties, PropertySet, encodedProperties, type PublishProperties } from "../../src/mqtt/properties.ts";
import { PushReader, ServerPacket, decodeAny } from "../../sim/brokers/server-codec.ts";

/** Property values as mqtt-packet names and types them (booleans for the 0/1 bytes, bytes as number[]). */
export type Props5 = Record<string, unknown>;
export type UserProps = Record<string, string | string[]>;

export type Fields5 =
  | { cmd: "connect"; clientId: string; keepalive: number; clean: boolean; username?: string; password?: number[];
      will?: { topic: string; payload: number[]; qos: 0 | 1 | 2; retain: boolean; properties?: Props5 }; properties?: Props5 }
  | { cmd: "connack"; sessionPresent: boolean; reasonCode: number; properties?: Props5 }
  | { cmd: "publish"; topic: string; payload: number[]; qos: 0 | 1 | 2; retain: boolean; dup: boolean; messageId?: number; properties?: Props5 }
  | { cmd: "puback" | "pubrec" | "pubrel" | "pubcomp"; messageId: number; reasonCode: number; properties?: Props5 }
  | { cmd: "subscribe"; messageId: number; subscriptions: { topic: string; qos: 0 | 1 | 2; nl: boolean; rap: boolean; rh: number }[]; properties?: Props5 }
  | { cmd: "suback" | "unsuback"; messageId: number; granted: number[]; properties?: Props5 }
  | { cmd: "unsubscribe"; messageId: number; unsubscriptions: string[]; properties?: Props5 }
  | { cmd: "disconnect" | "auth"; reasonCode: number; properties?: Props5 }
  | { cmd: "pingreq" | "pingresp" };

// ---- the property table (spec 2.2.2.2), written independently of src/mqtt/properties.ts

type Kind = "byte" | "u16" | "u32" | "var" | "string" | "binary" | "pair";
/** id -> [mqtt-packet name, wire type, mqtt-packet shows it as a boolean] */
export const PROPS: Readonly<Record<number, readonly [string, Kind, boolean]>> = {
  0x01: ["payloadFormatIndicator", "byte", true], 0x02: ["messageExpiryInterval", "u32", false],
  0x03: ["contentType", "string", false], 0x08: ["responseTopic", "string", false], 0x09: ["correlationData", "binary", false],
  0x0b: ["subscriptionIdentifier", "var", false], 0x11: ["sessionExpiryInterval", "u32", false],
  0x12: ["assignedClientIdentifier", "string", false], 0x13: ["serverKeepAlive", "u16", false],
  0x15: ["authenticationMethod", "string", false], 0x16: ["authenticationData", "binary", false],
  0x17: ["requestProblemInformation", "byte", true], 0x18: ["willDelayInterval", "u32", false],
  0x19: ["requestResponseInformation", "byte", true], 0x1a: ["responseInformation", "string", false],
  0x1c: ["serverReference", "string", false], 0x1f: ["reasonString", "string", false], 0x21: ["receiveMaximum", "u16", false],
  0x22: ["topicAliasMaximum", "u16", false], 0x23: ["topicAlias", "u16", false], 0x24: ["maximumQoS", "byte", false],
  0x25: ["retainAvailable", "byte", true], 0x26: ["userProperties", "pair", false], 0x27: ["maximumPacketSize", "u32", false],
  0x28: ["wildcardSubscriptionAvailable", "byte", true], 0x29: ["subscriptionIdentifiersAvailable", "byte", true],
  0x2a: ["sharedSubscriptionAvailable", "byte", true],
};
export const PROP_ID: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(PROPS).map(([id, [name]]) => [name, Number(id)]));

const strict = new TextDecoder("utf-8", { fatal: true });
const u16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];

/** A 2-byte-length-prefixed string at `o` (the *At offsets point at the prefix). */
export function stringAt(b: Uint8Array, o: number): string {
  return strict.decode(b.subarray(o + 2, o + 2 + u16(b, o)));
}
/** A 2-byte-length-prefixed binary at `o`. */
export function binaryAt(b: Uint8Array, o: number): number[] {
  return Array.from(b.subarray(o + 2, o + 2 + u16(b, o)));
}

/** A variable byte integer at `o`: [value, offset after]. */
export function varint(b: Uint8Array, o: number): [number, number] {
  let v = 0, m = 1;
  for (let i = 0; i < 4; i++) {
    const c = b[o++];
    v += (c & 127) * m;
    if (!(c & 128)) return [v, o];
    m *= 128;
  }
  throw new Error("varint longer than 4 bytes");
}

/** One property as found in a block: id, offset of its value, the value as mqtt-packet shows it. */
export interface FoundProp { id: number; at: number; value: unknown }

/** Walks a property block b[start, end) (without its length); throws on anything malformed. */
export function walkProperties(b: Uint8Array, start: number, end: number): FoundProp[] {
  const out: FoundProp[] = [];
  let o = start;
  while (o < end) {
    const [id, vo] = varint(b, o);
    const spec = PROPS[id];
    if (!spec) throw new Error(`unknown property 0x${id.toString(16)} at ${o}`);
    const [, kind, bool] = spec;
    let value: unknown;
    o = vo;
    switch (kind) {
      case "byte": value = bool ? b[o] !== 0 : b[o]; o += 1; break;
      case "u16": value = u16(b, o); o += 2; break;
      case "u32": value = ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3]; o += 4; break;
      case "var": [value, o] = varint(b, o); break;
      case "string": value = stringAt(b, o); o += 2 + u16(b, o); break;
      case "binary": value = binaryAt(b, o); o += 2 + u16(b, o); break;
      case "pair": { const k = stringAt(b, o); o += 2 + u16(b, o); const v = stringAt(b, o); o += 2 + u16(b, o); value = [k, v]; break; }
    }
    if (o > end) throw new Error(`property 0x${id.toString(16)} runs past the block (${o} > ${end})`);
    out.push({ id, at: vo, value });
  }
  return out;
}

/** Found properties gathered the way mqtt-packet's parser does: repeats become arrays, user properties an object. */
export function gather(found: FoundProp[]): Props5 | undefined {
  if (!found.length) return undefined;
  const out: Props5 = {};
  const users: Record<string, string | string[]> = Object.create(null);
  let anyUser = false;
  for (const { id, value } of found) {
    const name = PROPS[id][0];
    if (id === 0x26) {
      const [k, v] = value as [string, string];
      anyUser = true;
      const prev = users[k];
      users[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    } else if (name in out) {
      const prev = out[name];
      out[name] = Array.isArray(prev) && PROPS[id][1] !== "binary" ? [...prev, value] : [prev, value];
    } else out[name] = value;
  }
  if (anyUser) out.userProperties = { ...users };
  return out;
}

// ---- mqtt-packet side

const bytes = (b: unknown): number[] => (b === undefined || b === null ? [] : Array.from(b as Uint8Array));

/** mqtt-packet's properties object with Buffers as number[] and a plain userProperties object. */
export function normProps(p: Record<string, unknown> | undefined): Props5 | undefined {
  if (!p || Object.keys(p).length === 0) return undefined;
  const out: Props5 = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    if (k === "userProperties") out[k] = { ...(v as UserProps) };
    else if (Buffer.isBuffer(v) || v instanceof Uint8Array) out[k] = Array.from(v);
    else if (typeof v === "string" && (k === "correlationData" || k === "authenticationData")) out[k] = Array.from(Buffer.from(v));
    else out[k] = v;
  }
  return out;
}

const withProps = <T extends object>(f: T, props: Props5 | undefined): T => (props ? { ...f, properties: props } : f);

/** mqtt-packet's parsed v5 object as Fields5. */
export function fromMqttPacket5(p: MqttPacket): Fields5 {
  const props = normProps((p as { properties?: Record<string, unknown> }).properties);
  switch (p.cmd) {
    case "connect": {
      const f: Fields5 = { cmd: "connect", clientId: p.clientId, keepalive: p.keepalive ?? 0, clean: p.clean ?? false };
      if (p.username !== undefined) f.username = p.username;
      if (p.password !== undefined) f.password = bytes(p.password);
      if (p.will) f.will = withProps({ topic: p.will.topic, payload: bytes(p.will.payload), qos: p.will.qos ?? 0, retain: p.will.retain ?? false },
        normProps(p.will.properties as Record<string, unknown> | undefined));
      return withProps(f, props);
    }
    case "connack": return withProps({ cmd: "connack", sessionPresent: p.sessionPresent, reasonCode: p.reasonCode ?? -1 }, props);
    case "publish": {
      const f: Fields5 = { cmd: "publish", topic: p.topic, payload: bytes(p.payload), qos: p.qos, retain: p.retain, dup: p.dup };
      if (p.qos > 0) f.messageId = p.messageId;
      return withProps(f, props);
    }
    case "puback": case "pubrec": case "pubrel": case "pubcomp":
      return withProps({ cmd: p.cmd, messageId: p.messageId ?? -1, reasonCode: p.reasonCode ?? -1 }, props);
    case "subscribe":
      return withProps({ cmd: "subscribe", messageId: p.messageId ?? -1,
        subscriptions: p.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos, nl: s.nl ?? false, rap: s.rap ?? false, rh: s.rh ?? 0 })) }, props);
    case "suback": return withProps({ cmd: "suback", messageId: p.messageId ?? -1, granted: [...(p.granted as number[])] }, props);
    case "unsuback": return withProps({ cmd: "unsuback", messageId: p.messageId ?? -1, granted: [...((p as { granted?: number[] }).granted ?? [])] }, props);
    case "unsubscribe": return withProps({ cmd: "unsubscribe", messageId: p.messageId ?? -1, unsubscriptions: [...p.unsubscriptions] }, props);
    case "disconnect": case "auth": return withProps({ cmd: p.cmd, reasonCode: p.reasonCode ?? 0 }, props);
    case "pingreq": case "pingresp": return { cmd: p.cmd };
    default: throw new Error(`unexpected ${(p as { cmd: string }).cmd}`);
  }
}

/** Fields5 as mqtt-packet's object (Buffers for bytes). */
export function toMqttPacket5(f: Fields5): MqttPacket {
  const props = (p: Props5 | undefined): Record<string, unknown> | undefined => {
    if (!p) return undefined;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) out[k] = (k === "correlationData" || k === "authenticationData") ? Buffer.from(v as number[]) : v;
    return out;
  };
  const fp = (f as { properties?: Props5 }).properties;
  const base = { ...f, properties: props(fp) } as Record<string, unknown>;
  if (!fp) delete base.properties;
  switch (f.cmd) {
    case "connect":
      Object.assign(base, { protocolId: "MQTT", protocolVersion: 5 });
      if (f.password) base.password = Buffer.from(f.password);
      if (f.will) base.will = { ...f.will, payload: Buffer.from(f.will.payload), ...(f.will.properties ? { properties: props(f.will.properties) } : {}) };
      break;
    case "publish": base.payload = Buffer.from(f.payload); break;
  }
  return base as unknown as MqttPacket;
}

/** mqtt-packet's v5 encoding of `f`. */
export function theirs5(f: Fields5): Uint8Array {
  return new Uint8Array(mqttPacket.generate(toMqttPacket5(f), { protocolVersion: 5 }));
}

/** Every packet mqtt-packet (v5) finds in `data`; throws on its parse errors. */
export function parse5(data: Uint8Array): Fields5[] {
  const out: Fields5[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  let error: unknown;
  parser.on("packet", (p) => out.push(fromMqttPacket5(p)));
  parser.on("error", (e) => { error ??= e; });
  parser.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  if (error) throw error;
  return out;
}

// ---- our decoder side

const cmdOfType = ["", "connect", "connack", "publish", "puback", "pubrec", "pubrel", "pubcomp", "subscribe", "suback",
  "unsubscribe", "unsuback", "pingreq", "pingresp", "disconnect", "auth"] as const;

/** Our decoded v5 Packet as Fields5, properties walked from propertiesStart..propertiesEnd. */
export function fromOurPacket5(p: Packet): Fields5 {
  const b = p.buf;
  const props = p.type === PacketType.PINGRESP || p.type === PacketType.PINGREQ ? undefined : gather(walkProperties(b, p.propertiesStart, p.propertiesEnd));
  const cmd = cmdOfType[p.type];
  switch (cmd) {
    case "connack": return withProps({ cmd, sessionPresent: p.sessionPresent, reasonCode: p.reasonCode }, props);
    case "publish": {
      const f: Fields5 = { cmd, topic: strict.decode(b.subarray(p.topicStart, p.topicEnd)), payload: Array.from(b.subarray(p.payloadStart, p.payloadEnd)),
        qos: p.qos as 0 | 1 | 2, retain: p.retain, dup: p.dup };
      if (p.qos > 0) f.messageId = p.packetId;
      return withProps(f, props);
    }
    case "puback": case "pubrec": case "pubrel": case "pubcomp": return withProps({ cmd, messageId: p.packetId, reasonCode: p.reasonCode }, props);
    case "suback": case "unsuback": return withProps({ cmd, messageId: p.packetId, granted: Array.from(b.subarray(p.payloadStart, p.payloadEnd)) }, props);
    case "disconnect": case "auth": return withProps({ cmd, reasonCode: p.reasonCode }, props);
    case "pingresp": case "pingreq": return { cmd };
    default: throw new Error(`no v5 fields for type ${p.type}`);
  }
}

/**
 * The Packet's own v5 summary fields must agree with its property block (walked independently). Returns the
 * disagreements (empty when all agree).
 */
export function summaryMismatches(p: Packet, findProperty: (b: Uint8Array, s: number, e: number, id: number) => number): string[] {
  const out: string[] = [];
  const b = p.buf;
  const found = p.type === PacketType.PINGRESP || p.type === PacketType.PINGREQ ? [] : walkProperties(b, p.propertiesStart, p.propertiesEnd);
  const first = (id: number) => found.find((x) => x.id === id);
  const eq = (what: string, got: unknown, want: unknown) => { if (JSON.stringify(got) !== JSON.stringify(want)) out.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`); };
  // findProperty: the offset of the first value of every id, -1 for the absent ones
  for (const id of Object.keys(PROPS).map(Number)) eq(`findProperty(0x${id.toString(16)})`, findProperty(b, p.propertiesStart, p.propertiesEnd, id), first(id)?.at ?? -1);
  const at = (id: number) => first(id)?.at ?? -1;
  const reasonAt = (p as unknown as { reasonStringAt?: number }).reasonStringAt;
  if (reasonAt !== undefined && p.type !== PacketType.PUBLISH) eq("reasonStringAt", reasonAt, at(0x1f));
  if (p.type === PacketType.PUBLISH) {
    eq("topicAlias", p.topicAlias, first(0x23)?.value ?? 0);
    eq("payloadFormat", p.payloadFormat, first(0x01) ? b[first(0x01)!.at] : -1);
    eq("messageExpiry", p.messageExpiry, first(0x02)?.value ?? -1);
    eq("contentTypeAt", p.contentTypeAt, at(0x03));
    eq("responseTopicAt", p.responseTopicAt, at(0x08));
    eq("correlationDataAt", p.correlationDataAt, at(0x09));
    const subs = found.filter((x) => x.id === 0x0b);
    eq("subscriptionIds", p.subscriptionIds, subs.length);
    eq("subscriptionId", p.subscriptionId, subs[0]?.value ?? 0);
    eq("userPropertyCount", p.userPropertyCount, found.filter((x) => x.id === 0x26).length);
  }
  return out;
}

// ---- streams

/** A v5 Packet ready for decode (the session sets v5 on its packet). */
export function packet5(): ServerPacket {
  const p = new ServerPacket();
  p.v5 = true;
  return p;
}

/** Decodes every packet of `data` (pushed in `chunks`) as v5: Fields5, or the error code. */
export function decode5(chunks: Uint8Array[], capacity = 70000): ({ fields: Fields5 } | { error: number; type: number })[] {
  const r = new PushReader(capacity), p = packet5(), out: ({ fields: Fields5 } | { error: number; type: number })[] = [];
  for (const c of chunks) {
    let i = 0;
    while (i < c.length) {
      const s = r.push(c, i, c.length);
      i += r.consumed;
      if (s === 1) {
        const res = decodeAny(r, p);
        out.push(res === 0 ? { fields: fromOurPacket5(p) } : { error: res, type: r.type });
      } else if (s < 0) { out.push({ error: s, type: r.type }); r.reset(); }
    }
  }
  return out;
}

/** Decodes one whole packet as v5: [status, packet]. */
export function decodeOne5(data: Uint8Array, capacity = 70000): [number, ServerPacket] {
  const r = new PushReader(capacity), p = packet5();
  const s = r.push(data, 0, data.length);
  if (s !== 1) return [s === 0 ? 1000 : s, p]; // 1000: incomplete (a test shows it as such)
  if (r.consumed !== data.length) throw new Error(`one packet expected, ${data.length - r.consumed} bytes left`);
  return [decodeAny(r, p), p];
}

// ---- hand-made property blocks (fixtures and malformed input)

const utf8Bytes = (s: string): number[] => Array.from(Buffer.from(s, "utf8"));
const lp = (b: number[]): number[] => [b.length >> 8, b.length & 255, ...b];

/** A variable byte integer's bytes. */
export function varintBytes(n: number): number[] {
  const out: number[] = [];
  do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 128; out.push(b); } while (n > 0);
  return out;
}

/**
 * A property block (without its length) from [id, value] entries, written as the spec lays them out, with no
 * checks: strings are text or raw number[] bytes (for bad UTF-8), pairs [name, value].
 */
export function block(entries: [number, unknown][]): number[] {
  const out: number[] = [];
  const str = (v: unknown): number[] => lp(typeof v === "string" ? utf8Bytes(v) : (v as number[]));
  for (const [id, v] of entries) {
    out.push(...varintBytes(id));
    switch (PROPS[id]?.[1] ?? "byte") {
      case "byte": out.push(Number(v)); break;
      case "u16": out.push(((v as number) >> 8) & 255, (v as number) & 255); break;
      case "u32": out.push(((v as number) >>> 24) & 255, ((v as number) >>> 16) & 255, ((v as number) >>> 8) & 255, (v as number) & 255); break;
      case "var": out.push(...(Array.isArray(v) ? (v as number[]) : varintBytes(v as number))); break;
      case "string": case "binary": out.push(...str(v)); break;
      case "pair": out.push(...str((v as unknown[])[0]), ...str((v as unknown[])[1])); break;
    }
  }
  return out;
}

/** Props5 (mqtt-packet names) as [id, value] entries, in the object's order, user properties expanded. */
export function entriesOf(p: Props5 | undefined): [number, unknown][] {
  const out: [number, unknown][] = [];
  for (const [k, v] of Object.entries(p ?? {})) {
    const id = PROP_ID[k];
    if (k === "userProperties") {
      for (const [n, vs] of Object.entries(v as UserProps)) for (const x of Array.isArray(vs) ? vs : [vs]) out.push([id, [n, x]]);
    } else if (Array.isArray(v) && PROPS[id][1] !== "binary") for (const x of v) out.push([id, x]);
    else out.push([id, v]);
  }
  return out;
}

/** A whole packet: first byte, then the body with its remaining length. */
export function packetBytes(first: number, body: number[]): Uint8Array {
  return Uint8Array.from([first, ...varintBytes(body.length), ...body]);
}
/** `s` as an MQTT string (2-byte length, UTF-8). */
export const mqttStr = (s: string): number[] => lp(utf8Bytes(s));
/** A property block with its length prefix. */
export const withLength = (b: number[]): number[] => [...varintBytes(b.length), ...b];

// ---- our encoders driven from Fields5

const binProps = (p: Props5 | undefined): Record<string, unknown> | undefined => {
  if (!p) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) out[k] = (k === "correlationData" || k === "authenticationData") ? Uint8Array.from(v as number[]) : v;
  return out;
};
const ackType = { puback: PacketType.PUBACK, pubrec: PacketType.PUBREC, pubrel: PacketType.PUBREL, pubcomp: PacketType.PUBCOMP } as const;

/**
 * Encodes `f` with our v5 encoders into `buf` at `o`: the end offset or a negative ErrorCode. PUBLISH properties
 * go through `Properties` (encoded once, as an application keeps them) and the topic alias beside them; AUTH's
 * properties are a block made here (the codec takes AUTH properties as an encoded block).
 */
export function encodeOurs5(buf: Uint8Array, o: number, f: Fields5): number {
  switch (f.cmd) {
    case "connect": {
      const c: ConnectOptions = { clientId: f.clientId, keepalive: f.keepalive, cleanSession: f.clean, protocolVersion: 5 };
      if (f.username !== undefined) c.username = f.username;
      if (f.password !== undefined) c.password = Uint8Array.from(f.password);
      if (f.will) {
        c.will = { topic: f.will.topic, payload: Uint8Array.from(f.will.payload), qos: f.will.qos, retain: f.will.retain };
        if (f.will.properties) c.will.properties = binProps(f.will.properties);
      }
      if (f.properties) c.properties = binProps(f.properties);
      return encodeConnect(buf, o, c);
    }
    case "publish": {
      const { topicAlias, ...rest } = binProps(f.properties) ?? {};
      const props = new Properties(rest as PublishProperties);
      return encodePublish(buf, o, f.topic, Uint8Array.from(f.payload), f.qos, f.retain, f.dup, f.messageId ?? 0, props.bytes, (topicAlias as number | undefined) ?? 0);
    }
    case "puback": case "pubrec": case "pubrel": case "pubcomp":
      if (f.properties) throw new Error("our encodeAck writes no properties");
      return f.reasonCode ? encodeAckReason(buf, o, ackType[f.cmd], f.messageId, f.reasonCode) : encodeAck(buf, o, ackType[f.cmd], f.messageId);
    case "subscribe": {
      if (f.subscriptions.length !== 1) throw new Error("our encoder writes one filter per SUBSCRIBE");
      const s = f.subscriptions[0];
      const options = (s.nl ? SubscribeOption.NoLocal : 0) | (s.rap ? SubscribeOption.RetainAsPublished : 0) | (s.rh << 4);
      return encodeSubscribe(buf, o, f.messageId, s.topic, s.qos, encodedProperties(f.properties ?? {}, PropertySet.Subscribe), options);
    }
    case "unsubscribe":
      if (f.unsubscriptions.length !== 1) throw new Error("our encoder writes one filter per UNSUBSCRIBE");
      return encodeUnsubscribe(buf, o, f.messageId, f.unsubscriptions[0], encodedProperties(f.properties ?? {}, PropertySet.Subscribe));
    case "disconnect":
      return encodeReasonPacket(buf, o, PacketType.DISCONNECT, f.reasonCode, encodedProperties(f.properties ?? {}, PropertySet.Disconnect));
    case "auth":
      return encodeReasonPacket(buf, o, PacketType.AUTH, f.reasonCode, Uint8Array.from(block(entriesOf(f.properties))));
    case "pingreq": return encodeEmpty(buf, o, PacketType.PINGREQ);
    default: throw new Error(`a client does not send ${f.cmd}`);
  }
}

/** Our v5 encoding of `f` as a fresh array (throws on an encoder error so a test shows it). */
export function ours5(f: Fields5): Uint8Array {
  const buf = new Uint8Array(70000 + (f.cmd === "publish" ? f.payload.length : 0));
  const end = encodeOurs5(buf, 0, f);
  if (end < 0) throw new Error(`our encoder refused ${f.cmd}: error ${-end}`);
  return buf.slice(0, end);
}
