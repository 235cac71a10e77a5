// XS entry for src/ alone: the real MQTTClient over the in-memory transport, N messages per measured crank
// (hosts/xs/entries/meter.ts), broker packets encoded on the Node side. The transport's own instructions are
// measured apart by replaying the exact calls the client made on it, without the client.
import { MQTTClient, type Message } from "../../../src/mqtt/client";
import { Feed, MemoryTransport } from "./memory-transport.ts";
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

export interface SetupOptions {
  packets: Packets;
  /** Topic published to and subscribed to (the incoming PUBLISHes carry it). */
  topic: string;
  sizes: number[];
  /** A second subscription (the footprint has two); its filter matches nothing sent here. */
  otherFilter?: string;
  /** Client buffers (default: the client's defaults). */
  txBuffer?: number;
  rxBuffer?: number;
}

let client: MQTTClient;
let t: MemoryTransport;
let topic = "";
let payloads: Uint8Array[] = [];
let feeds: { puback: Feed; pubrec: Feed; pubrel: Feed; pubcomp: Feed; publishes: Feed[][] };
let received = 0, delivered = 0, errors = 0, dropped = 0;
let lastError = "";

function onCount(_m: Message): void { received++; }

/** Builds and connects the client (default buffers), subscribes at QoS 2. */
export function setup(o: SetupOptions): { writes: number; bytesOut: number } {
  const p = o.packets;
  feeds = {
    puback: new Feed(p.puback), pubrec: new Feed(p.pubrec), pubrel: new Feed(p.pubrel), pubcomp: new Feed(p.pubcomp),
    publishes: p.publishes.map((row) => row.map((bytes) => new Feed(bytes))),
  };
  topic = o.topic;
  payloads = o.sizes.map((n) => new Uint8Array(n).fill(0x78));
  t = new MemoryTransport();
  client = new MQTTClient({ host: "127.0.0.1", clientId: "xs-memory", reconnect: false, transport: t, txBuffer: o.txBuffer, rxBuffer: o.rxBuffer });
  client.onDelivered = () => { delivered++; };
  client.onError = (e) => { errors++; lastError = e.message; };
  t.connect();
  t.deliver(new Feed(p.connack));
  if (!client.connected) throw new Error("no CONNACK handled");
  const suback = new Feed(p.suback);
  for (const filter of o.otherFilter ? [topic, o.otherFilter] : [topic]) {
    client.subscribe(filter, 2, onCount);
    suback.bytes[2] = t.lastSrc![t.lastStart + 2];
    suback.bytes[3] = t.lastSrc![t.lastStart + 3];
    t.deliver(suback);
  }
  return { writes: t.writes, bytesOut: t.bytesOut };
}

function publish(qos: number, size: number, n: number): void {
  const c = client, tr = t, f = feeds, data = payloads[size], tp = topic;
  if (qos === 0) {
    for (let i = 0; i < n; i++) if (c.publish(tp, data, 0) < 0) dropped++;
  } else if (qos === 1) {
    for (let i = 0; i < n; i++) {
      const id = c.publish(tp, data, 1);
      f.puback.setId(id);
      tr.deliver(f.puback);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const id = c.publish(tp, data, 2);
      f.pubrec.setId(id);
      tr.deliver(f.pubrec);
      f.pubcomp.setId(id);
      tr.deliver(f.pubcomp);
    }
  }
}

function receive(qos: number, size: number, n: number): void {
  const tr = t, feed = feeds.publishes[qos][size], pubrel = feeds.pubrel;
  if (qos < 2) for (let i = 0; i < n; i++) tr.deliver(feed);
  else {
    for (let i = 0; i < n; i++) {
      tr.deliver(feed);
      tr.deliver(pubrel);
    }
  }
}

action(Run.Publish, publish);
action(Run.Receive, receive);
// The bare loop of publish(): what the harness costs per message.
action(Run.Loop, (_a, _b, n) => { for (let i = 0; i < n; i++); });

// ---------------------------------------------------------------------------------------------
// The transport's share: the calls of one message, recorded, then replayed on a transport with no client.

const OP_DELIVER = 0, OP_AVAILABLE = 1, OP_READBYTE = 2, OP_READINTO = 3, OP_WRITABLE = 4, OP_WRITE = 5, OP_SKIP = 6;

class RecordingTransport extends MemoryTransport {
  log: number[] = [];
  feedsSeen: Feed[] = [];
  override deliver(feed: Feed): void {
    let k = this.feedsSeen.indexOf(feed);
    if (k < 0) k = this.feedsSeen.push(feed) - 1;
    this.log.push(OP_DELIVER, k);
    super.deliver(feed);
  }
  override available(): number { this.log.push(OP_AVAILABLE, 0); return super.available(); }
  override readByte(): number { this.log.push(OP_READBYTE, 0); return super.readByte(); }
  override readInto(dst: Uint8Array, offset: number, max: number): number { this.log.push(OP_READINTO, max); return super.readInto(dst, offset, max); }
  override skip(max: number): number { this.log.push(OP_SKIP, max); return super.skip(max); }
  override writable(): number { this.log.push(OP_WRITABLE, 0); return super.writable(); }
  override write(packet: Uint8Array): void { this.log.push(OP_WRITE, packet.length); super.write(packet); }
}

let ops: number[] = [];
let opFeeds: Feed[] = [];
const sink = new Uint8Array(70000);
const quiet = { onTransportConnect() {}, onTransportData() {}, onTransportWritable() {}, onTransportClose() {} };

/**
 * Records the transport calls of one message (after `warm` unrecorded ones) on a second client set up the same
 * way; returns how many calls of each kind one message makes.
 */
export function record(o: SetupOptions, kind: "publish" | "receive", qos: number, size: number, warm: number): Record<string, number> {
  const [saved, savedT] = [client, t];
  const rt = new RecordingTransport();
  try {
    t = rt;
    const c = new MQTTClient({ host: "127.0.0.1", clientId: "xs-memory-rec", reconnect: false, transport: rt, txBuffer: o.txBuffer, rxBuffer: o.rxBuffer });
    client = c;
    rt.connect();
    rt.deliver(new Feed(o.packets.connack));
    const suback = new Feed(o.packets.suback);
    c.subscribe(o.topic, 2, onCount);
    suback.bytes[2] = rt.lastSrc![rt.lastStart + 2];
    suback.bytes[3] = rt.lastSrc![rt.lastStart + 3];
    rt.deliver(suback);
    const run = kind === "publish" ? publish : receive;
    run(qos, size, warm);
    rt.log = [];
    rt.feedsSeen = [];
    run(qos, size, 1);
    ops = rt.log;
    opFeeds = rt.feedsSeen;
    rt.log = []; // close() below writes a DISCONNECT: not part of a message
    c.close();
  } finally {
    client = saved;
    t = savedT;
  }
  const names = ["deliver", "available", "readByte", "readInto", "writable", "write", "skip"];
  const counts: Record<string, number> = {};
  for (let i = 0; i < ops.length; i += 2) counts[names[ops[i]]] = (counts[names[ops[i]]] ?? 0) + 1;
  return counts;
}

/**
 * Replays the recorded calls n times on a transport with no client, as straight-line code (no interpreter whose
 * own instructions would count as the transport's); `dry` runs the same loop without the calls.
 */
function replay(dry: boolean, n: number): void {
  const tr = new MemoryTransport();
  tr.open("", 0, quiet);
  const lines: string[] = [];
  if (!dry) {
    for (let j = 0; j < ops.length; j += 2) {
      const op = ops[j], arg = ops[j + 1];
      lines.push(
        op === OP_DELIVER ? `tr.deliver(fs[${arg}]);` : op === OP_AVAILABLE ? "tr.available();" : op === OP_READBYTE ? "tr.readByte();"
          : op === OP_READINTO ? `tr.readInto(dst, 0, ${arg});` : op === OP_SKIP ? `tr.skip(${arg});` : op === OP_WRITABLE ? "tr.writable();"
          : `tr.write(out[${arg}]);`,
      );
    }
  }
  const out: Uint8Array[] = [];
  for (let j = 0; j < ops.length; j += 2) if (ops[j] === OP_WRITE) out[ops[j + 1]] = sink.subarray(0, ops[j + 1]);
  const body = new Function("tr", "fs", "dst", "out", "n", `for (let i = 0; i < n; i++) {\n${lines.join("\n")}\n}`) as
    (tr: MemoryTransport, fs: Feed[], dst: Uint8Array, out: Uint8Array[], n: number) => void;
  body(tr, opFeeds, sink, out, n);
}
action(Run.Replay, (_a, _b, n) => replay(false, n));
action(Run.ReplayDry, (_a, _b, n) => replay(true, n));

export function counts(): { received: number; delivered: number; errors: number; dropped: number; lastError: string; writes: number; bytesOut: number; lastFirstByte: number } {
  return { received, delivered, errors, dropped, lastError, writes: t.writes, bytesOut: t.bytesOut, lastFirstByte: t.lastFirstByte() };
}

/** The bytes of the last packet the client wrote. */
export function lastWritten(): number[] { return t.lastSrc ? Array.from(t.lastSrc.subarray(t.lastStart, t.lastEnd)) : []; }
