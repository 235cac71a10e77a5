// One interface over both clients under test (ours in the simulator, MQTT.js on node:net), so every
// benchmark drives them with the same loop: connect, subscribe, publish a constant payload, count arrivals.
import mqtt from "mqtt";
import { Device } from "../../sim/board/device.ts";
import { MQTTClient, type Message } from "../../src/mqtt/client.ts";
import { TcpTransport } from "../../src/net/tcp-transport.ts";
import { WebSocketTransport } from "../../src/net/ws-transport.ts";
import { TlsTransport } from "../../src/net/tls-transport.ts";
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { moddableTls } from "../../hosts/node/modules/securesocket.ts";

export type Qos = 0 | 1 | 2;
export type PeerKind = "xsmq" | "mqttjs";

export interface Peer {
  readonly kind: PeerKind;
  /** Resolves once connected (CONNACK). */
  connected(): Promise<void>;
  /** Resolves at SUBACK; `onMessage` then gets the u32 sequence number in payload bytes 0..3 of each message. */
  subscribe(filter: string, qos: Qos, onMessage: (seq: number) => void): Promise<void>;
  /** Publishes the constant payload (made once; both clients send the very same bytes). */
  publish(topic: string, qos: Qos): void;
  /** Publishes a fresh payload carrying `seq` (for latency; MQTT.js keeps a reference, so it gets a new Buffer). */
  publishSeq(topic: string, qos: Qos, seq: number): void;
  /** False while the client already holds enough unsent or unacknowledged messages: the producer waits. */
  canPublish(): boolean;
  /** Bytes this client has written to its TCP connection so far. */
  bytesOut(): number;
  /** True when nothing published is still waiting in the client to be written. */
  idle(): boolean;
  close(): Promise<void>;
}

/** How many messages a producer may have queued or in flight beyond the client's own window. */
export const BACKLOG = 128;

/**
 * Which of our transports the xsmq peer uses: Moddable `socket`, ECMA-419 `embedded:io/socket/tcp`, or WebSocket over
 * the latter ("ws", path /mqtt; MQTT.js then connects with ws:// too).
 */
export type TransportKind = "socket" | "tcp" | "ws" | "tls";

/**
 * `ca`: with transport "tls", the PEM file of the CA both clients check the broker's certificate against;
 * `moddableTls`: MQTT.js held to what Moddable's TLS (and so our client) offers: TLS 1.2 and its suites.
 */
export interface PeerOptions {
  port: number; clientId: string; payloadSize: number; inflight?: number; transport?: TransportKind; ca?: string; moddableTls?: boolean;
  /** 5: MQTT 5.0 (each client with its defaults: ours gives QoS 0 topics aliases when the broker allows). */
  protocolVersion?: 4 | 5;
}

/** Our client on its own simulated device (its own byte counters), buffers sized for 1 KB payloads. */
export class XsmqPeer implements Peer {
  readonly kind = "xsmq" as const;
  readonly device: Device;
  readonly client: MQTTClient;
  private readonly payload: Uint8Array;
  private handler: (seq: number) => void = () => {};

  constructor(o: PeerOptions) {
    this.device = new Device({ id: o.clientId, trace: () => {} });
    this.payload = constantPayload(o.payloadSize);
    const inflight = o.inflight ?? 64;
    this.client = this.device.run(() => new MQTTClient({
      host: "127.0.0.1", port: o.port, clientId: o.clientId, keepalive: 60, reconnect: false,
      rxBuffer: 2048, txBuffer: 2048, inflight, inflightIn: 256, queue: (BACKLOG + 16) * (o.payloadSize + 64),
      ...(o.protocolVersion === 5 ? { protocolVersion: 5 as const } : {}),
      transport: o.transport === "tcp" ? new TcpTransport(2048)
        : o.transport === "ws" ? new WebSocketTransport({ transport: new TcpTransport(2048), frameSize: 2048 })
        : o.transport === "tls" ? new TlsTransport({ certificate: new X509Certificate(readFileSync(o.ca!)).raw }) : undefined,
    }));
    const self = this;
    // One handler for the life of the client: reads the sequence number without allocating.
    this.client.onMessage = function (m: Message) {
      self.handler(((m.byte(0) << 24) | (m.byte(1) << 16) | (m.byte(2) << 8) | m.byte(3)) >>> 0);
    };
    this.client.onError = (e) => { throw e; };
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.client.connected) return resolve();
      this.client.onConnect = () => resolve();
      this.client.onClose = (e) => reject(e ?? new Error("closed before CONNACK"));
    });
  }

  subscribe(filter: string, qos: Qos, onMessage: (seq: number) => void): Promise<void> {
    this.handler = onMessage;
    return new Promise((resolve, reject) => {
      this.client.onSubscribe = (_f, granted) => (granted === qos ? resolve() : reject(new Error(`SUBACK ${granted}`)));
      this.device.run(() => this.client.subscribe(filter, qos));
    });
  }

  publish(topic: string, qos: Qos): void {
    if (this.client.publish(topic, this.payload, qos) < 0) throw new Error("publish dropped by the queue");
  }

  publishSeq(topic: string, qos: Qos, seq: number): void {
    writeSeq(this.payload, seq); // the client copies the bytes into its packet at once
    this.publish(topic, qos);
  }

  canPublish(): boolean {
    return this.client.session.outbox.count < BACKLOG;
  }

  bytesOut(): number { return this.device.network.bytesOut; }

  idle(): boolean { return this.client.session.queued === 0; }

  async close(): Promise<void> { this.device.run(() => this.client.close()); }
}

/** MQTT.js 5 as its users run it: default options, no reconnect, its own in-memory buffering. */
export class MqttjsPeer implements Peer {
  readonly kind = "mqttjs" as const;
  readonly client: mqtt.MqttClient;
  private readonly payload: Buffer;
  private readonly size: number;
  private readonly qosOptions = [{ qos: 0 as const }, { qos: 1 as const }, { qos: 2 as const }];
  private pending = 0;
  private readonly done = () => { this.pending--; };
  private handler: (seq: number) => void = () => {};

  constructor(o: PeerOptions) {
    this.size = o.payloadSize;
    this.payload = Buffer.from(constantPayload(o.payloadSize));
    const url = o.transport === "ws" ? `ws://127.0.0.1:${o.port}/mqtt` : `${o.transport === "tls" ? "mqtts" : "mqtt"}://127.0.0.1:${o.port}`;
    this.client = mqtt.connect(url, { clientId: o.clientId, keepalive: 60, reconnectPeriod: 0, clean: true,
      ...(o.protocolVersion === 5 ? { protocolVersion: 5 as const } : {}),
      ...(o.ca ? { ca: readFileSync(o.ca) } : {}), ...(o.moddableTls ? moddableTls : {}) });
    this.client.on("message", (_topic: string, payload: Buffer) => this.handler(payload.readUInt32BE(0)));
    this.client.on("error", (e) => { throw e; });
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.client.connected) return resolve();
      this.client.once("connect", () => resolve());
      this.client.once("error", reject);
    });
  }

  subscribe(filter: string, qos: Qos, onMessage: (seq: number) => void): Promise<void> {
    this.handler = onMessage;
    return new Promise((resolve, reject) => {
      this.client.subscribe(filter, { qos }, (err, granted) => {
        if (err) reject(err);
        else if (granted?.[0]?.qos !== qos) reject(new Error(`SUBACK ${granted?.[0]?.qos}`));
        else resolve();
      });
    });
  }

  publish(topic: string, qos: Qos): void {
    this.pending++;
    this.client.publish(topic, this.payload, this.qosOptions[qos], this.done);
  }

  publishSeq(topic: string, qos: Qos, seq: number): void {
    const b = Buffer.allocUnsafe(this.size);
    this.payload.copy(b);
    b.writeUInt32BE(seq, 0);
    this.pending++;
    this.client.publish(topic, b, this.qosOptions[qos], this.done);
  }

  /** Same bound as ours: BACKLOG messages beyond an in-flight window of 64 (QoS 0 completes when written). */
  canPublish(): boolean {
    return this.pending < BACKLOG + 64 && (this.client.stream as { writableLength?: number }).writableLength! < BACKLOG * (this.size + 64);
  }

  bytesOut(): number { return (this.client.stream as { bytesWritten?: number }).bytesWritten ?? 0; }

  idle(): boolean { return (this.client.stream as { writableLength?: number }).writableLength === 0; }

  close(): Promise<void> {
    return new Promise((resolve) => this.client.end(true, {}, () => resolve()));
  }
}

export function makePeer(kind: PeerKind, o: PeerOptions): Peer {
  return kind === "xsmq" ? new XsmqPeer(o) : new MqttjsPeer(o);
}

/** Printable bytes after a zero sequence number, the same for both clients. */
export function constantPayload(size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 4; i < size; i++) b[i] = 0x61 + (i % 26);
  return b;
}

function writeSeq(b: Uint8Array, seq: number): void {
  b[0] = seq >>> 24; b[1] = (seq >>> 16) & 255; b[2] = (seq >>> 8) & 255; b[3] = seq & 255;
}
