// XS entry for src/ with no network: the real MQTTClient over the in-memory transport ("memory"), or over its
// real transports (src/net: "tcp", the default, "socket", and "ws", WebSocket over tcp) on in-memory fakes of the native modules (the
// bench bundles them in place of the host's with `modules`). N messages per measured crank
// (sim/xs/entries/meter.ts); broker packets encoded on the Node side. The transport's (or fake's) own
// instructions are measured apart by replaying, without the client, the exact calls one message made.
import { MQTTClient, Properties, type Message, type PublishOptions, type PublishProperties } from "../../../src/mqtt/client";
import type { Transport } from "../../../src/net/transport";
import { SocketTransport } from "../../../src/net/socket-transport";
import { WebSocketTransport } from "../../../src/net/ws-transport";
import { TlsTransport } from "../../../src/net/tls-transport";
import { base64, sha1 } from "../../../src/net/sha1";
import { Feed, MemoryTransport } from "./memory-transport.ts";
import FakeTCP from "./fakes/tcp.ts";
import { Socket as FakeSocket } from "./fakes/socket.ts";
import { Op, rec } from "./fakes/record.ts";
import { action, probed } from "./meter.ts";
import { Run } from "./meter-ops.ts";

export { probed };

export interface Packets {
  connack: number[];
  suback: number[];
  puback: number[];
  pubrec: number[];
  pubrel: number[];
  pubcomp: number[];
  /** Incoming PUBLISH per QoS (0..2), per payload size: publishes[qos][sizeIndex] (packet id 1). */
  publishes: number[][][];
}

export type TransportKind = "memory" | "tcp" | "socket" | "ws" | "tls";

export interface SetupOptions {
  packets: Packets;
  /** Topic published to and subscribed to (the incoming PUBLISHes carry it). */
  topic: string;
  sizes: number[];
  /** "memory" (default): the in-memory Transport; "tcp"/"socket": src/net's, over fake natives. */
  transport?: TransportKind;
  /** A second subscription (the footprint has two); its filter matches nothing sent here. */
  otherFilter?: string;
  /** Client buffers (default: the client's defaults). */
  txBuffer?: number;
  rxBuffer?: number;
  /** 5: MQTT 5.0 (the broker packets above are then 5.0 ones). */
  protocolVersion?: 4 | 5;
  /** MQTT 5.0: publish with these properties, encoded once into a `Properties` (one options object per QoS). */
  properties?: PublishProperties;
  /** MQTT 5.0: topics the client may give outgoing aliases (the client's default when absent). */
  topicAliases?: number;
  /** MQTT 5.0: the subscription's identifier. */
  subscriptionIdentifier?: number;
  /** Packets the broker sends once after SUBACK (e.g. a PUBLISH naming an incoming topic alias). */
  primes?: number[][];
  /** The handler reads the message (topicIs, number, contentTypeIs(contentType)): a mismatch counts as an error. */
  inspect?: { contentType: string; hasContentType: boolean; subscriptionId: number };
}

/** What the loops drive: the in-memory transport itself, or the fake native socket under a src/net transport. */
interface Link {
  connect(): void;
  deliver(feed: Feed): void;
  writes: number;
  bytesOut: number;
}

let client: MQTTClient;
let link: Link;
let kind: TransportKind = "memory";
let topic = "";
let payloads: Uint8Array[] = [];
let feeds: Feed[] = [];
let fs: { puback: Feed; pubrec: Feed; pubrel: Feed; pubcomp: Feed; publishes: Feed[][] };
let received = 0, delivered = 0, errors = 0, dropped = 0;
let lastError = "";

function onCount(_m: Message): void { received++; }

let inspect: NonNullable<SetupOptions["inspect"]> = { contentType: "", hasContentType: false, subscriptionId: 0 };
let numbers = 0;
/** What an application would read, with no allocation: the topic, the payload as a number, the content type. */
function onInspect(m: Message): void {
  received++;
  const n = m.number;
  if (n === n) numbers++; // not NaN
  if (!m.topicIs(topic) || m.contentTypeIs(inspect.contentType) !== inspect.hasContentType || m.subscriptionId !== inspect.subscriptionId) {
    errors++;
    lastError = "inspect: the message read back wrong";
  }
}

function feed(bytes: number[]): Feed {
  const f = kind === "ws" ? new FramedFeed(bytes) : new Feed(bytes);
  f.index = feeds.push(f) - 1;
  return f;
}

/** A broker packet in one unmasked binary WebSocket frame (the "ws" kind); acks' ids sit after the 2-byte header. */
class FramedFeed extends Feed {
  constructor(packet: number[]) {
    const n = packet.length;
    super([0x82, ...(n < 126 ? [n] : [126, n >> 8, n & 255]), ...packet]);
  }
  override setId(id: number): void { this.bytes[4] = id >> 8; this.bytes[5] = id & 255; }
}

/** The last packet the client wrote through `l` (for "ws", unmasked out of its frame: allocates). */
function lastPacket(l: Link): Uint8Array | undefined {
  if (l instanceof MemoryTransport) return l.lastSrc ? l.lastSrc.subarray(l.lastStart, l.lastEnd) : undefined;
  const p = (l as unknown as { lastPacket: Uint8Array | undefined }).lastPacket;
  if (kind !== "ws" || !p) return p;
  const at = (p[1] & 127) < 126 ? 2 : 4, out = p.slice(at + 4);
  for (let i = 0; i < out.length; i++) out[i] ^= p[at + (i & 3)];
  return out;
}

/** The server's 101 to the upgrade request the WebSocket transport just wrote. */
function upgradeAnswer(request: Uint8Array): Feed {
  const key = /Sec-WebSocket-Key: (\S+)/.exec(String.fromArrayBuffer(request.slice().buffer))![1];
  const accept = base64(sha1(new Uint8Array(ArrayBuffer.fromString(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))));
  const text = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`;
  return new Feed(Array.from(new Uint8Array(ArrayBuffer.fromString(text))));
}

/** A client like the measured one, connected and subscribed; `transport` for the memory kind. */
function start(o: SetupOptions, id: string, memory: MemoryTransport | undefined): { c: MQTTClient; l: Link } {
  const k = o.transport ?? "memory";
  const transport: Transport | undefined = k === "memory" ? memory : k === "socket" ? new SocketTransport() : k === "ws" ? new WebSocketTransport({ seed: 1, frameSize: o.txBuffer })
    : k === "tls" ? new TlsTransport() : undefined; // tcp: the client's default
  const c = new MQTTClient({ host: "127.0.0.1", clientId: id, reconnect: false, transport, txBuffer: o.txBuffer, rxBuffer: o.rxBuffer,
    ...(o.protocolVersion === 5 ? { protocolVersion: 5 as const, topicAliases: o.topicAliases } : {}) });
  const l: Link = k === "memory" ? memory! : k === "tcp" || k === "ws" ? FakeTCP.last! : (FakeSocket.last! as unknown as Link);
  c.onDelivered = () => { delivered++; };
  c.onError = (e) => { errors++; lastError = e.message; };
  l.connect();
  if (k === "ws") l.deliver(upgradeAnswer(FakeTCP.last!.lastPacket!));
  const framed = (bytes: number[]) => (k === "ws" ? new FramedFeed(bytes) : new Feed(bytes));
  l.deliver(framed(o.packets.connack));
  if (!c.connected) throw new Error(`no CONNACK handled (${lastError})`);
  const suback = framed(o.packets.suback);
  const handler = o.inspect ? onInspect : onCount;
  for (const filter of o.otherFilter ? [o.topic, o.otherFilter] : [o.topic]) {
    if (o.subscriptionIdentifier) c.subscribe(filter, { qos: 2, subscriptionIdentifier: o.subscriptionIdentifier }, handler);
    else c.subscribe(filter, 2, handler);
    const sub = lastPacket(l)!;
    suback.setId((sub[2] << 8) | sub[3]);
    l.deliver(suback);
  }
  for (const p of o.primes ?? []) l.deliver(framed(p));
  return { c, l };
}

/** Builds and connects the client, subscribes at QoS 2. */
export function setup(o: SetupOptions): { writes: number; bytesOut: number } {
  const p = o.packets;
  feeds = [];
  kind = o.transport ?? "memory";
  fs = {
    puback: feed(p.puback), pubrec: feed(p.pubrec), pubrel: feed(p.pubrel), pubcomp: feed(p.pubcomp),
    publishes: p.publishes.map((row) => row.map(feed)),
  };
  topic = o.topic;
  payloads = o.sizes.map((n) => new Uint8Array(n).fill(0x78));
  if (o.inspect) inspect = o.inspect;
  const props = o.properties ? new Properties(o.properties) : undefined;
  options = props ? [0, 1, 2].map((qos): PublishOptions => ({ qos: qos as 0 | 1 | 2, properties: props })) : [0, 1, 2];
  ({ c: client, l: link } = start(o, "xs-memory", kind === "memory" ? new MemoryTransport() : undefined));
  return { writes: link.writes, bytesOut: link.bytesOut };
}

/** publish()'s third argument per QoS: the QoS, or (with properties) an options object made once. */
let options: (number | PublishOptions)[] = [0, 1, 2];

function publish(qos: number, size: number, n: number): void {
  const c = client, tr = link, f = fs, data = payloads[size], tp = topic, o = options[qos];
  if (qos === 0) {
    for (let i = 0; i < n; i++) if (c.publish(tp, data, o) < 0) dropped++;
  } else if (qos === 1) {
    for (let i = 0; i < n; i++) {
      const id = c.publish(tp, data, o);
      f.puback.setId(id);
      tr.deliver(f.puback);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const id = c.publish(tp, data, o);
      f.pubrec.setId(id);
      tr.deliver(f.pubrec);
      f.pubcomp.setId(id);
      tr.deliver(f.pubcomp);
    }
  }
}

function receive(qos: number, size: number, n: number): void {
  const tr = link, incoming = fs.publishes[qos][size], pubrel = fs.pubrel;
  if (qos < 2) for (let i = 0; i < n; i++) tr.deliver(incoming);
  else {
    for (let i = 0; i < n; i++) {
      tr.deliver(incoming);
      tr.deliver(pubrel);
    }
  }
}

action(Run.Publish, publish);
action(Run.Receive, receive);
// The bare loop of publish(): what the harness costs per message.
action(Run.Loop, (_a, _b, n) => { for (let i = 0; i < n; i++); });

// ---------------------------------------------------------------------------------------------
// The transport's (or fake's) share: the calls of one message, recorded, then replayed with no client.

class RecordingTransport extends MemoryTransport {
  override deliver(f: Feed): void { rec.log?.push(Op.Deliver, f.index); super.deliver(f); }
  override available(): number { rec.log?.push(Op.Available, 0); return super.available(); }
  override readByte(): number { rec.log?.push(Op.ReadByte, 0); return super.readByte(); }
  override readInto(dst: Uint8Array, offset: number, max: number): number { rec.log?.push(Op.ReadInto, max); return super.readInto(dst, offset, max); }
  override skip(max: number): number { rec.log?.push(Op.Skip, max); return super.skip(max); }
  override writable(): number { rec.log?.push(Op.Writable, 0); return super.writable(); }
  override write(packet: Uint8Array): boolean { rec.log?.push(Op.Write, packet.length); return super.write(packet); }
}

let ops: number[] = [];
const opNames = ["deliver", "available", "readByte", "readInto", "writable", "write", "skip", "read"];

/**
 * Records the calls one message makes on the transport (memory) or the fake native socket (tcp, socket), on a
 * second client set up the same way, after `warm` unrecorded messages; returns how many of each kind.
 */
export function record(o: SetupOptions, what: "publish" | "receive", qos: number, size: number, warm: number): Record<string, number> {
  const saved = { client, link };
  const k = o.transport ?? "memory";
  try {
    rec.log = [];
    ({ c: client, l: link } = start(o, "xs-memory-rec", k === "memory" ? new RecordingTransport() : undefined));
    const go = what === "publish" ? publish : receive;
    go(qos, size, warm);
    rec.log = [];
    go(qos, size, 1);
    ops = rec.log;
    rec.log = undefined; // close() below writes a DISCONNECT: not part of a message
    client.close();
  } finally {
    rec.log = undefined;
    ({ client, link } = saved);
  }
  const counts: Record<string, number> = {};
  for (let i = 0; i < ops.length; i += 2) counts[opNames[ops[i]]] = (counts[opNames[ops[i]]] ?? 0) + 1;
  return counts;
}

const quietListener = { onTransportConnect() {}, onTransportData() {}, onTransportWritable() {}, onTransportClose() {} };
const sink = new Uint8Array(70000);

/**
 * Replays the recorded calls n times on a fresh transport or fake with no client, as straight-line code (no
 * interpreter whose instructions would count as the transport's); `dry` runs the same code without the calls,
 * keeping what the client itself would do around them (resizing its read buffer).
 */
function replay(dry: boolean, n: number): void {
  let target: unknown;
  if (kind === "memory") {
    const t = new MemoryTransport();
    t.open("", 0, quietListener);
    target = t;
  } else if (kind === "tcp" || kind === "ws") {
    target = new FakeTCP({ address: "127.0.0.1", port: 1883, onReadable() {}, onWritable() {}, onError() {} });
  } else {
    const s = new FakeSocket({});
    s.callback = () => {};
    target = s;
  }
  const lines: string[] = [];
  for (let j = 0; j < ops.length; j += 2) {
    const op = ops[j], arg = ops[j + 1];
    if (op === Op.ReadBuffer) { lines.push(`rx.resize(${arg});`); if (!dry) lines.push("s.read(rx);"); continue; }
    if (dry) continue;
    if (op === Op.Deliver) lines.push(`s.deliver(fs[${arg}]);`);
    else if (op === Op.Write) lines.push(`s.write(out[${arg}]);`);
    else if (kind === "socket" || kind === "tls") lines.push(op === Op.Available ? "s.read();" : op === Op.ReadByte ? "s.read(Number);" : op === Op.Skip ? `s.read(null, ${arg});` : "s.write();");
    else lines.push(op === Op.Available ? "s.available();" : op === Op.ReadByte ? "s.readByte();" : op === Op.ReadInto ? `s.readInto(dst, 0, ${arg});` : op === Op.Skip ? `s.skip(${arg});` : "s.writable();");
  }
  const out: Uint8Array[] = [];
  for (let j = 0; j < ops.length; j += 2) if (ops[j] === Op.Write) out[ops[j + 1]] = sink.subarray(0, ops[j + 1]);
  const rx = new ArrayBuffer(1024, { maxByteLength: 1024 });
  const body = new Function("s", "fs", "dst", "out", "rx", "n", `for (let i = 0; i < n; i++) {\n${lines.join("\n")}\n}`) as
    (s: unknown, fs: Feed[], dst: Uint8Array, out: Uint8Array[], rx: ArrayBuffer, n: number) => void;
  body(target, feeds, sink, out, rx, 1); // first calls cache views: not a per-message cost (n = 0 windows do it too)
  body(target, feeds, sink, out, rx, n);
}
action(Run.Replay, (_a, _b, n) => replay(false, n));
action(Run.ReplayDry, (_a, _b, n) => replay(true, n));

export function counts(): { received: number; delivered: number; errors: number; dropped: number; lastError: string; writes: number; bytesOut: number; numbers: number } {
  return { received, delivered, errors, dropped, lastError, writes: link.writes, bytesOut: link.bytesOut, numbers };
}

/** The bytes of the last packet the client wrote. */
export function lastWritten(): number[] {
  const p = lastPacket(link);
  return p ? Array.from(p) : [];
}
