// src/ without sockets: our Session (and then the whole MQTTClient over an in-memory Transport) talking to a
// tiny allocation-free broker stand-in, synchronously. What the heap grows by here is what src/ allocates
// (plus, for the client, the host timer/time modules it calls) - the goal is exactly 0 bytes per message.
import { PacketReader, Packet, PacketType, decode, encodeAck } from "../../src/mqtt/codec.ts";
import { Session, type Output, type SessionListener } from "../../src/mqtt/session.ts";
import { MQTTClient } from "../../src/mqtt/client.ts";
import type { Transport, TransportListener } from "../../src/net/transport.ts";
import type { Qos } from "./peers.ts";
import { constantPayload } from "./peers.ts";
import { Window } from "./heap.ts";
import { setDefaultBoard } from "../../hosts/node/board.ts";
import { Device } from "../../sim/board/device.ts";
import { VirtualClock } from "../../sim/board/clock.ts";
import { ArraySource, PushReader, decodeAny, encodeConnack, encodePublishBytes, encodeSuback } from "../../sim/brokers/server-codec.ts";

const TOPIC = "bench/loop/x";

/** Bytes the client wrote, waiting for the broker stand-in. */
class OutputBuffer implements Output {
  readonly buf = new Uint8Array(1 << 16);
  len = 0;
  writable(): number { return this.buf.length - this.len; }
  write(packet: Uint8Array): boolean {
    if (packet.length > this.writable()) return false;
    this.buf.set(packet, this.len);
    this.len += packet.length;
    return true;
  }
}

interface ClientEnd { feed(bytes: Uint8Array, n: number): void }

/** Answers what a broker would: CONNACK, SUBACK, PUBACK/PUBREC/PUBREL/PUBCOMP, PINGRESP; sends PUBLISHes. */
class LoopBroker {
  private readonly rx = new PushReader(4096);
  private readonly packet = new Packet();
  private readonly scratch = new Uint8Array(1 << 16);
  private readonly reply = new Uint8Array(4096);
  private readonly topic = new Uint8Array(Array.from(TOPIC, (c) => c.charCodeAt(0)));
  private readonly payload: Uint8Array;
  private nextId = 0;
  published = 0;
  delivered = 0;

  constructor(private readonly written: OutputBuffer, private readonly client: ClientEnd, payloadSize: number) {
    this.payload = constantPayload(payloadSize);
  }

  /** Handles everything the client wrote, including what it writes in answer, until it goes quiet. */
  process(): void {
    const written = this.written, scratch = this.scratch, rx = this.rx;
    while (written.len > 0) {
      const n = written.len;
      for (let i = 0; i < n; i++) scratch[i] = written.buf[i];
      written.len = 0;
      let at = 0;
      while (at < n) {
        const status = rx.push(scratch, at, n);
        at += rx.consumed;
        if (status < 0) throw new Error(`loop broker: bad packet from the client (${status})`);
        if (status === 1) this.handle();
      }
    }
  }

  /** Sends one PUBLISH of `qos` to the client. */
  deliver(qos: Qos): void {
    this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
    const p = this.payload;
    const n = encodePublishBytes(this.reply, 0, this.topic, 0, this.topic.length, p, 0, p.length, qos, false, false, this.nextId);
    this.client.feed(this.reply, n);
  }

  private handle(): void {
    const p = this.packet;
    if (decodeAny(this.rx, p) < 0) throw new Error("loop broker: undecodable packet");
    const r = this.reply;
    let n = 0;
    switch (p.type) {
      case PacketType.CONNECT: n = encodeConnack(r, 0, false, 0); break;
      case PacketType.SUBSCRIBE: {
        const codes = r.subarray(3000, 3001); // set up once per subscription, not per message
        codes[0] = p.buf[p.payloadEnd - 1];
        n = encodeSuback(r, 0, p.packetId, codes, 1);
        break;
      }
      case PacketType.PUBLISH:
        this.published++;
        if (p.qos === 1) n = encodeAck(r, 0, PacketType.PUBACK, p.packetId);
        else if (p.qos === 2) n = encodeAck(r, 0, PacketType.PUBREC, p.packetId);
        break;
      case PacketType.PUBREL: n = encodeAck(r, 0, PacketType.PUBCOMP, p.packetId); break;
      case PacketType.PUBREC: n = encodeAck(r, 0, PacketType.PUBREL, p.packetId); break;
      case PacketType.PUBACK: case PacketType.PUBCOMP: this.delivered++; break;
      case PacketType.PINGREQ: r[0] = PacketType.PINGRESP << 4; r[1] = 0; n = 2; break;
      default: break;
    }
    if (n > 0) this.client.feed(r, n);
  }
}

/** A Session fed through its own PacketReader, as MQTTClient does. */
function sessionSetup(payloadSize: number) {
  const written = new OutputBuffer();
  const counts = { messages: 0 };
  const listener: SessionListener = {
    onSessionConnect() {}, onSessionMessage() { counts.messages++; }, onSessionDelivered() {},
    onSessionSubscribe() {}, onSessionUnsubscribe() {}, onSessionError(e) { throw e; }, onSessionFatal(e) { throw e; },
  };
  const session = new Session({ clientId: "loop", txBuffer: 2048, inflight: 8, queue: 1 << 16, inflightIn: 16 }, listener);
  const rx = new PushReader(2048);
  const end: ClientEnd = {
    feed(bytes, n) {
      let at = 0;
      while (at < n) {
        const s = rx.push(bytes, at, n);
        at += rx.consumed;
        if (s === 1) session.receive(rx, 1);
        else if (s < 0) throw new Error("session reader failed");
      }
    },
  };
  const broker = new LoopBroker(written, end, payloadSize);
  session.begin(written, 0);
  broker.process();
  if (!session.connected) throw new Error("loop session did not connect");
  return { session, broker, counts };
}

/** An in-memory Transport: what the broker stand-in sends is read back (an ArraySource over its receive buffer). */
class LoopTransport extends ArraySource implements Transport, ClientEnd {
  readonly written = new OutputBuffer();
  listener: TransportListener | undefined;
  constructor() {
    super();
    this.reset(new Uint8Array(1 << 16), 0, 0);
  }
  open(_host: string, _port: number, listener: TransportListener): void { this.listener = listener; }
  close(): void { this.listener = undefined; }
  writable(): number { return this.written.writable(); }
  write(packet: Uint8Array): boolean { return this.written.write(packet); }
  feed(bytes: Uint8Array, n: number): void {
    if (this.pos === this.end) this.pos = this.end = 0;
    for (let i = 0; i < n; i++) this.bytes[this.end++] = bytes[i];
    this.listener?.onTransportData();
  }
}

function clientSetup(payloadSize: number, qos: Qos) {
  // A virtual clock: Node 20's performance.now() allocates (an hrtime array per call), and that is the host's
  // cost, measured in the e2e figures; here Time.ticks and Timer must cost nothing so only src/ is counted.
  setDefaultBoard(new Device({ id: "loop", clock: new VirtualClock(), trace: () => {} }));
  const transport = new LoopTransport();
  const client = new MQTTClient({ host: "loop", clientId: "loop-client", transport, reconnect: false, keepalive: 60,
    rxBuffer: 2048, txBuffer: 2048, inflight: 8, queue: 1 << 16 });
  const broker = new LoopBroker(transport.written, transport, payloadSize);
  transport.listener!.onTransportConnect();
  broker.process();
  let subscribed = false, messages = 0;
  client.onSubscribe = () => { subscribed = true; };
  client.subscribe("bench/loop/+", qos, () => { messages++; });
  broker.process();
  if (!client.connected || !subscribed) throw new Error("loop client did not connect and subscribe");
  return { client, broker, count: () => messages };
}

/**
 * Windows of `n` messages for each path: src_session publish/receive and src_client publish/receive.
 * Every step is synchronous, so nothing but the code under test runs inside a window.
 */
export function loopbackPerMessage(qos: Qos, size: number, n: number, windows: number): Record<string, Window[]> {
  const payload = constantPayload(size);
  const s = sessionSetup(size);
  const c = clientSetup(size, qos);
  const steps: Record<string, () => void> = {
    "session.publish": () => { s.session.publish(TOPIC, payload, qos, false, 1); s.broker.process(); },
    "session.receive": () => { s.broker.deliver(qos); s.broker.process(); },
    "client.publish": () => { c.client.publish(TOPIC, payload, qos); c.broker.process(); },
    "client.receive": () => { c.broker.deliver(qos); c.broker.process(); },
  };
  const out: Record<string, Window[]> = {};
  for (const [name, step] of Object.entries(steps)) {
    for (let i = 0; i < 3 * n; i++) step(); // warm up: optimised code in place before measuring
    const ws: Window[] = [];
    for (let k = 0; k < windows; k++) {
      const w = new Window();
      w.begin();
      for (let i = 0; i < n; i++) step();
      w.end();
      ws.push(w);
    }
    out[name] = ws;
  }
  // Sanity: the stand-in saw every publish and the client every delivery.
  const total = (3 + windows) * n;
  if (s.broker.published !== total) throw new Error(`session publish: broker saw ${s.broker.published} of ${total}`);
  if (s.counts.messages !== total) throw new Error(`session receive: ${s.counts.messages} of ${total} delivered`);
  if (c.count() !== total) throw new Error(`client receive: ${c.count()} of ${total} delivered`);
  if (c.broker.published !== total) throw new Error(`client publish: broker saw ${c.broker.published} of ${total}`);
  if (qos > 0 && s.broker.delivered !== total) throw new Error(`session receive: ${s.broker.delivered} acks of ${total}`);
  return out;
}
