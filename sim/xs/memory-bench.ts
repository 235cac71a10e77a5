// Per-message figures of an MQTT client inside XS with no network: src/ over the in-memory transport
// (sim/xs/entries/memory.ts) or Moddable's own client over fakes (sim/xs/entries/moddable-peer.ts, see
// moddable-bench.ts). The broker's packets are encoded here by mqtt-packet, an independent encoder.
import mqttPacket from "mqtt-packet";
import { XSHost } from "./host.ts";
import { XSMeter, type PerMessage } from "./meter.ts";
import type { Packets, SetupOptions, TransportKind } from "./entries/memory.ts";
import type { PublishProperties } from "../../src/mqtt/properties.ts";
import { Run } from "./entries/meter-ops.ts";

/** An 11-character topic, as in issue 18's table. */
export const benchTopic = "xsmq/bench1";
export const benchSizes = [16, 256];

export function packetBytes(packet: mqttPacket.Packet): number[] {
  return Array.from(mqttPacket.generate(packet));
}

export function publishBytes(topic: string, size: number, qos: 0 | 1 | 2): number[] {
  return packetBytes({ cmd: "publish", topic, payload: Buffer.alloc(size, 0x78), qos, retain: false, dup: false, ...(qos > 0 ? { messageId: 1 } : {}) });
}

export function brokerPackets(topic: string, sizes: number[]): Packets {
  const ack = (cmd: "puback" | "pubrec" | "pubrel" | "pubcomp") => packetBytes({ cmd, messageId: 1 } as mqttPacket.Packet);
  return {
    connack: packetBytes({ cmd: "connack", returnCode: 0, sessionPresent: false }),
    suback: packetBytes({ cmd: "suback", messageId: 1, granted: [2] }),
    puback: ack("puback"), pubrec: ack("pubrec"), pubrel: ack("pubrel"), pubcomp: ack("pubcomp"),
    publishes: ([0, 1, 2] as const).map((qos) => sizes.map((n) => publishBytes(topic, n, qos))),
  };
}

/** An MQTT 5.0 case: what the broker's packets carry and how the client publishes. */
export interface V5Case {
  /** The client publishes with these properties (encoded once into a `Properties`). */
  properties?: PublishProperties;
  /** The broker's CONNACK Topic Alias Maximum (absent: none, every PUBLISH carries its topic). */
  brokerAliases?: number;
  /** Properties of the broker's PUBLISHes (mqtt-packet's names). */
  incoming?: mqttPacket.IPublishPacket["properties"];
  /** The broker's PUBLISHes come by this topic alias: one names topic and alias after SUBACK, the rest carry the alias alone. */
  incomingAlias?: number;
  /** The subscription's identifier (also sent by the broker in `incoming`). */
  subscriptionIdentifier?: number;
  /** The handler reads topicIs, number and contentTypeIs (payloads are then decimal digits). */
  inspect?: boolean;
}

/** The content type the v5 cases use. */
export const benchContentType = "application/json";

/** `size` decimal digits (m.number reads them whole). */
function digits(size: number): Buffer {
  return Buffer.from("123456789".repeat(Math.ceil(size / 9)).slice(0, size));
}

/** MQTT 5.0 broker packets for case `v` (mqtt-packet, protocolVersion 5). */
export function brokerPackets5(topic: string, sizes: number[], v: V5Case): Packets {
  const gen = (packet: mqttPacket.Packet) => Array.from(mqttPacket.generate(packet, { protocolVersion: 5 }));
  const ack = (cmd: "puback" | "pubrec" | "pubrel" | "pubcomp") => gen({ cmd, messageId: 1 } as mqttPacket.Packet);
  const properties = { ...v.incoming, ...(v.incomingAlias ? { topicAlias: v.incomingAlias } : {}) };
  const publish = (size: number, qos: 0 | 1 | 2) => gen({
    cmd: "publish", topic: v.incomingAlias ? "" : topic, payload: v.inspect ? digits(size) : Buffer.alloc(size, 0x78), qos, retain: false, dup: false,
    ...(qos > 0 ? { messageId: 1 } : {}), ...(Object.keys(properties).length ? { properties } : {}),
  });
  return {
    connack: gen({ cmd: "connack", reasonCode: 0, sessionPresent: false, ...(v.brokerAliases ? { properties: { topicAliasMaximum: v.brokerAliases } } : {}) }),
    suback: gen({ cmd: "suback", messageId: 1, granted: [2] }),
    puback: ack("puback"), pubrec: ack("pubrec"), pubrel: ack("pubrel"), pubcomp: ack("pubcomp"),
    publishes: ([0, 1, 2] as const).map((qos) => sizes.map((n) => publish(n, qos))),
  };
}

/** Setup of an MQTT 5.0 case, buffers as in memorySetup. */
export function memorySetup5(v: V5Case, transport: TransportKind = "memory", topic = benchTopic, sizes = benchSizes): SetupOptions {
  const packets = brokerPackets5(topic, sizes, v);
  const primes = v.incomingAlias
    ? [Array.from(mqttPacket.generate({ cmd: "publish", topic, payload: Buffer.from("1"), qos: 0, retain: false, dup: false, properties: { ...v.incoming, topicAlias: v.incomingAlias } }, { protocolVersion: 5 }))]
    : undefined;
  const contentType = v.incoming?.contentType;
  return {
    packets, topic, sizes, transport, txBuffer: 512, rxBuffer: 512, protocolVersion: 5, properties: v.properties,
    subscriptionIdentifier: v.subscriptionIdentifier, primes,
    inspect: v.inspect ? { contentType: benchContentType, hasContentType: contentType === benchContentType, subscriptionId: v.incoming?.subscriptionIdentifier as number ?? 0 } : undefined,
  };
}

/** Buffers big enough for the 256-byte cases (the defaults, 128 out and 256 in, are not). */
export function memorySetup(transport: TransportKind = "memory", topic = benchTopic, sizes = benchSizes): SetupOptions {
  return { packets: brokerPackets(topic, sizes), topic, sizes, transport, txBuffer: 512, rxBuffer: 512 };
}

/** In-memory fakes of the native modules under src/net's transports (the "tcp" and "socket" kinds). */
export const fakeNatives: Record<string, string> = {
  "embedded:io/socket/tcp": "sim/xs/entries/fakes/tcp.ts",
  socket: "sim/xs/entries/fakes/socket.ts",
  net: "sim/xs/entries/fakes/net.ts",
  securesocket: "sim/xs/entries/fakes/securesocket.ts",
  Resource: "sim/xs/entries/fakes/resource.ts",
};

export interface MessageCase { kind: "publish" | "receive"; qos: 0 | 1 | 2; size: number }

export interface MessageFigures extends PerMessage {
  /** Instructions per message of the client alone: the transport (or fakes) and the harness loop taken out. */
  compute: number;
  /** Instructions per message of the transport or fakes alone (replayed without the client). */
  transport: number;
  /** Slots and chunk bytes per message of the transport or fakes alone (part of `slots`/`chunkBytes`). */
  transportSlots: number;
  transportChunkBytes: number;
  /** Instructions per message with everything. */
  total: number;
  /** Transport (or fake) calls per message. */
  calls: Record<string, number>;
}

/** A client entry inside XS whose cranks run n messages (the entry registers the `Run` actions). */
export class MessageBench {
  constructor(readonly xs: XSHost, readonly meter: XSMeter, readonly setup: unknown) {}

  /** Starts `entry`, runs `before` (e.g. loading code), calls its setup(setup), grows the heap to `heapSlots`. */
  static async start(entry: string, setup: unknown, heapSlots: number, before?: (xs: XSHost) => Promise<void>, modules?: Record<string, string>): Promise<MessageBench> {
    const xs = await XSHost.start({ entry, modules });
    try {
      await before?.(xs);
      await xs.call("setup", setup);
      const meter = new XSMeter(xs);
      await meter.prepare(heapSlots);
      return new MessageBench(xs, meter, setup);
    } catch (e) {
      await xs.close();
      throw e;
    }
  }

  counts<T = Record<string, number | string>>(): Promise<T> {
    return this.xs.call("counts");
  }

  /** Per-message figures of one case over n messages, after `warm` unmeasured ones. */
  async measure(c: MessageCase, n: number, warm = 50): Promise<MessageFigures> {
    const sizeIndex = benchSizes.indexOf(c.size);
    if (sizeIndex < 0) throw new Error(`no payload of ${c.size} B prepared`);
    const code = c.kind === "publish" ? Run.Publish : Run.Receive;
    await this.meter.crank(code, c.qos, sizeIndex, warm);
    const r = await this.meter.perMessage(code, c.qos, sizeIndex, n);
    const loop = await this.meter.perMessage(Run.Loop, 0, 0, n);
    const calls = await this.xs.call<Record<string, number>>("record", this.setup, c.kind, c.qos, sizeIndex, warm);
    const wet = await this.meter.perMessage(Run.Replay, 0, 0, n);
    const dry = await this.meter.perMessage(Run.ReplayDry, 0, 0, n);
    const transport = wet.compute - dry.compute;
    return {
      ...r,
      gcs: r.gcs + wet.gcs + dry.gcs,
      total: r.compute,
      compute: r.compute - transport - loop.compute,
      transport,
      transportSlots: wet.slots - dry.slots,
      transportChunkBytes: wet.chunkBytes - dry.chunkBytes,
      calls,
    };
  }

  close(): Promise<void> { return this.xs.close(); }
}

/**
 * src/ with no network, connected and subscribed to `benchTopic` at QoS 2: the client over the in-memory transport
 * ("memory"), or over src/net's TcpTransport ("tcp") or SocketTransport ("socket") on in-memory fake natives.
 */
export function startMemoryBench(heapSlots: number, transport: TransportKind = "memory", setup: SetupOptions = memorySetup(transport)): Promise<MessageBench> {
  return MessageBench.start("sim/xs/entries/memory.ts", setup, heapSlots, undefined, transport === "memory" ? undefined : fakeNatives);
}
