// Shared by the codec tests: one neutral "fields" shape for packets, converters to and from mqtt-packet (the
// independent oracle) and from our decoded Packet, and stream outcomes as Fields (feeders: codec-stream.ts).
import mqttPacket from "mqtt-packet";
import type { IConnectPacket, IPublishPacket, Packet as MqttPacket } from "mqtt-packet";
import { PacketType } from "../../src/mqtt/codec.ts";
import { encodeOurs, type Fields } from "./encode-fields.ts";
import type { ServerPacket } from "../../sim/brokers/server-codec.ts";
import { decodeChunks } from "./codec-stream.ts";

export { encodeOurs, type Fields };

const cmdOfType = ["", "connect", "connack", "publish", "puback", "pubrec", "pubrel", "pubcomp", "subscribe", "suback",
  "unsubscribe", "unsuback", "pingreq", "pingresp", "disconnect"] as const;

/** Our encoding of `f` as a fresh array (throws on an encoder error so a test shows it). */
export function ours(f: Fields): Uint8Array {
  const buf = new Uint8Array(70000 + (f.cmd === "publish" ? f.payload.length : 0));
  const end = encodeOurs(buf, 0, f);
  if (end < 0) throw new Error(`our encoder refused ${f.cmd}: error ${-end}`);
  return buf.slice(0, end);
}

/** The same packet as an mqtt-packet object (MQTT 3.1.1). */
export function toMqttPacket(f: Fields): MqttPacket {
  switch (f.cmd) {
    case "connect": {
      const p: IConnectPacket = { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: f.clientId, keepalive: f.keepalive, clean: f.clean };
      if (f.username !== undefined) p.username = f.username;
      if (f.password !== undefined) p.password = Buffer.from(f.password);
      if (f.will) p.will = { topic: f.will.topic, payload: Buffer.from(f.will.payload), qos: f.will.qos, retain: f.will.retain };
      return p;
    }
    case "publish": {
      const p: IPublishPacket = { cmd: "publish", topic: f.topic, payload: Buffer.from(f.payload), qos: f.qos, retain: f.retain, dup: f.dup };
      if (f.messageId !== undefined) p.messageId = f.messageId;
      return p;
    }
    case "suback": return { cmd: "suback", messageId: f.messageId, granted: [...f.granted] };
    case "subscribe": return { cmd: "subscribe", messageId: f.messageId, subscriptions: f.subscriptions.map((s) => ({ ...s })) };
    case "unsubscribe": return { cmd: "unsubscribe", messageId: f.messageId, unsubscriptions: [...f.unsubscriptions] };
    default: return { ...f } as MqttPacket;
  }
}

/** mqtt-packet's encoding of `f`. */
export function theirs(f: Fields): Uint8Array {
  return new Uint8Array(mqttPacket.generate(toMqttPacket(f)));
}

const bytes = (b: Uint8Array | null | undefined): number[] => (b ? Array.from(b) : []);

/** mqtt-packet's parsed object reduced to Fields (drops its bookkeeping like `length`). */
export function fromMqttPacket(p: MqttPacket): Fields {
  switch (p.cmd) {
    case "connect": {
      const f: Fields = { cmd: "connect", clientId: p.clientId, keepalive: p.keepalive ?? 0, clean: p.clean ?? false };
      if (p.username !== undefined) f.username = p.username;
      if (p.password !== undefined) f.password = bytes(p.password);
      if (p.will) f.will = { topic: p.will.topic, payload: bytes(p.will.payload as Buffer), qos: p.will.qos ?? 0, retain: p.will.retain ?? false };
      return f;
    }
    case "connack": return { cmd: "connack", sessionPresent: p.sessionPresent, returnCode: p.returnCode ?? -1 };
    case "publish": {
      const f: Fields = { cmd: "publish", topic: p.topic, payload: bytes(p.payload as Buffer), qos: p.qos, retain: p.retain, dup: p.dup };
      if (p.qos > 0) f.messageId = p.messageId;
      return f;
    }
    case "puback": case "pubrec": case "pubrel": case "pubcomp": case "unsuback":
      return { cmd: p.cmd, messageId: p.messageId ?? -1 };
    case "subscribe": return { cmd: "subscribe", messageId: p.messageId ?? -1, subscriptions: p.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })) };
    case "suback": return { cmd: "suback", messageId: p.messageId ?? -1, granted: p.granted as number[] };
    case "unsubscribe": return { cmd: "unsubscribe", messageId: p.messageId ?? -1, unsubscriptions: p.unsubscriptions };
    case "pingreq": case "pingresp": case "disconnect": return { cmd: p.cmd };
    default: throw new Error(`unexpected ${p.cmd}`);
  }
}

/** Every packet mqtt-packet finds in `data` (throws on its parse errors). */
export function parseWithMqttPacket(data: Uint8Array): Fields[] {
  const out: Fields[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let error: unknown;
  parser.on("packet", (p) => out.push(fromMqttPacket(p)));
  parser.on("error", (e) => { error = e; });
  parser.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  if (error) throw error;
  return out;
}

const strict = new TextDecoder("utf-8", { fatal: true });
const text = (b: Uint8Array, s: number, e: number): string => strict.decode(b.subarray(s, e));

/** Walks the entries of a decoded SUBSCRIBE (filter + QoS byte) or UNSUBSCRIBE (filter) in payload order. */
export function filterEntries(p: ServerPacket): { topic: string; qos: number }[] {
  const b = p.buf, out: { topic: string; qos: number }[] = [];
  let o = p.payloadStart;
  while (o < p.payloadEnd) {
    const n = (b[o] << 8) | b[o + 1];
    const topic = text(b, o + 2, o + 2 + n);
    o += 2 + n;
    if (p.type === PacketType.SUBSCRIBE) out.push({ topic, qos: b[o++] });
    else out.push({ topic, qos: -1 });
  }
  return out;
}

/** Our decoded Packet as Fields (strings decoded with a fatal TextDecoder, not with our own readUtf8). */
export function fromOurPacket(p: ServerPacket): Fields {
  const b = p.buf;
  const cmd = cmdOfType[p.type];
  switch (cmd) {
    case "connect": {
      const clean = (p.connect!.connectFlags & 2) !== 0;
      const f: Fields = { cmd, clientId: text(b, p.connect!.clientIdStart, p.connect!.clientIdEnd), keepalive: p.connect!.keepalive, clean };
      if (p.connect!.usernameStart >= 0) f.username = text(b, p.connect!.usernameStart, p.connect!.usernameEnd);
      if (p.connect!.passwordStart >= 0) f.password = Array.from(b.subarray(p.connect!.passwordStart, p.connect!.passwordEnd));
      if (p.connect!.connectFlags & 4) {
        f.will = {
          topic: text(b, p.connect!.willTopicStart, p.connect!.willTopicEnd), payload: Array.from(b.subarray(p.connect!.willPayloadStart, p.connect!.willPayloadEnd)),
          qos: ((p.connect!.connectFlags >> 3) & 3) as 0 | 1 | 2, retain: (p.connect!.connectFlags & 0x20) !== 0,
        };
      }
      return f;
    }
    case "connack": return { cmd, sessionPresent: p.sessionPresent, returnCode: p.returnCode };
    case "publish": {
      const f: Fields = { cmd, topic: text(b, p.topicStart, p.topicEnd), payload: Array.from(b.subarray(p.payloadStart, p.payloadEnd)),
        qos: p.qos as 0 | 1 | 2, retain: p.retain, dup: p.dup };
      if (p.qos > 0) f.messageId = p.packetId;
      return f;
    }
    case "puback": case "pubrec": case "pubrel": case "pubcomp": case "unsuback": return { cmd, messageId: p.packetId };
    case "subscribe": return { cmd, messageId: p.packetId, subscriptions: filterEntries(p).map((e) => ({ topic: e.topic, qos: e.qos as 0 | 1 | 2 })) };
    case "suback": return { cmd, messageId: p.packetId, granted: Array.from(b.subarray(p.payloadStart, p.payloadEnd)) };
    case "unsubscribe": return { cmd, messageId: p.packetId, unsubscriptions: filterEntries(p).map((e) => e.topic) };
    case "pingreq": case "pingresp": case "disconnect": return { cmd };
    default: throw new Error(`no fields for type ${p.type}`);
  }
}

/** What came out of a stream: a decoded packet (as Fields), or an error code from the reader or decode. */
export type Outcome = { fields: Fields } | { error: number; type: number };

/** Splits `data` at the given cut points (sorted, deduplicated, clamped) into chunks. */
export function chunk(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(data.length, c))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of points) { if (c > prev) out.push(data.subarray(prev, c)); prev = c; }
  if (prev < data.length) out.push(data.subarray(prev));
  return out;
}

/** A stream outcome as Fields (what codecStream's feeders report). */
export function outcomeOf(status: number, p: ServerPacket, type: number): Outcome {
  return status === 0 ? { fields: fromOurPacket(p) } : { error: status, type };
}

/** All outcomes of one byte stream through push (or pull) with a reader of `capacity`. */
export function decodeStream(chunks: Uint8Array[], capacity: number, mode: "push" | "pull"): Outcome[] {
  return decodeChunks(chunks, capacity, mode, outcomeOf);
}
