// src/ inside the real XS engine with no network: no allocation per message (publish and receive, QoS 0/1/2),
// counted as allocation (heap slots and chunk bytes allocated in a window with no collection), over the
// in-memory transport and over src/net's TCP, socket and WebSocket transports on in-memory fakes of the native modules;
// and instructions per message (deterministic counts) under Moddable's own client's (issue 18).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqttPacket from "mqtt-packet";
import {
  type MessageBench, type MessageCase, type MessageFigures, type V5Case, benchContentType, benchTopic, memorySetup5, startMemoryBench,
} from "../sim/xs/memory-bench.ts";
import { Builtin, Run } from "../sim/xs/entries/meter-ops.ts";

/** Messages per window: enough to see one slot per message, few enough for seconds. */
const N = 300;

/** Moddable's mqtt.js in the same engine (issue 18): per message, QoS 0, 11-character topic. */
const moddable = { publish: { 16: 571, 256: 1083 }, receive: { 16: 2613, 256: 3153 } } as const;

/**
 * The ceiling of a case: what Moddable's client spends on the same packets. It has no QoS 1/2, so a QoS 1/2
 * case is charged its QoS 0 publish or receive plus one 16-byte receive for each extra packet that comes in
 * (publish QoS 1: PUBACK; publish QoS 2: PUBREC, PUBCOMP; receive QoS 2: PUBREL). Our acks going out are not
 * charged: the ceiling stays below what Moddable would need for them.
 */
function ceilingOf(kind: "publish" | "receive", qos: number, size: 16 | 256): number {
  const incoming = kind === "publish" ? qos : qos === 2 ? 1 : 0;
  return moddable[kind][size] + incoming * moddable.receive[16];
}

const cases: MessageCase[] = [];
for (const kind of ["publish", "receive"] as const)
  for (const qos of [0, 1, 2] as const)
    for (const size of [16, 256]) cases.push({ kind, qos, size });

type Counts = { received: number; delivered: number; errors: number; dropped: number; lastError: string; writes: number };

const transports = [
  { kind: "memory", what: "the in-memory transport (src/ alone)" },
  { kind: "tcp", what: "TcpTransport (the default) on a fake embedded:io/socket/tcp" },
  { kind: "socket", what: "SocketTransport on a fake socket" },
  { kind: "ws", what: "WebSocketTransport over TcpTransport on a fake embedded:io/socket/tcp" },
  { kind: "tls", what: "TlsTransport on a fake securesocket (no TLS: the transport's own share)" },
] as const;

for (const transport of transports) {
  describe(`src/ inside XS over ${transport.what}`, () => {
    let bench: MessageBench;
    const measured = new Map<MessageCase, Promise<MessageFigures>>();
    /** Each case is measured once; the allocation and instruction tests read the same run. */
    const figures = (c: MessageCase): Promise<MessageFigures> => {
      if (!measured.has(c)) measured.set(c, bench.measure(c, N));
      return measured.get(c)!;
    };

    beforeAll(async () => {
      bench = await startMemoryBench(1 << 19, transport.kind);
    });

    afterAll(async () => {
      await bench?.close();
    });

    if (transport.kind === "memory") {
      it("the meter sees a known allocation and a collection", async () => {
        const m = bench.meter;
        // 100-byte ArrayBuffers: slots for the object, and a chunk of 100 bytes + header.
        const known = await m.perMessage(Builtin.Allocate, 100, 0, N);
        expect(known.gcs).toBe(0);
        expect(known.slots).toBeGreaterThanOrEqual(1);
        expect(known.chunkBytes).toBeGreaterThanOrEqual(100);
        expect(known.chunkBytes).toBeLessThanOrEqual(140);
        const armed = await m.crank(Builtin.Arm);
        expect(Number.isFinite(armed.chunkTop), "XS's chunk allocator could not be read from /proc/PID/mem of the worker (ptrace restrictions?)").toBe(true);
        await bench.xs.liveSlots(); // a forced collection
        await m.crank(Builtin.Probe);
        expect(await bench.xs.call("probed")).toBe(true);
        const quiet = await m.window(Builtin.Nothing, 0, 0, 0);
        expect(quiet.gc).toBe(false);
      });
    }

    it("what the client writes is the PUBLISH asked for", async () => {
      await bench.meter.crank(Run.Publish, 1, 0, 1); // QoS 1, 16 B (payload index 0)
      const bytes = Buffer.from(await bench.xs.call<number[]>("lastWritten"));
      const parser = mqttPacket.parser();
      const packets: mqttPacket.Packet[] = [];
      parser.on("packet", (p) => packets.push(p));
      parser.parse(bytes);
      expect(packets).toHaveLength(1);
      expect(packets[0]).toMatchObject({ cmd: "publish", topic: benchTopic, qos: 1, payload: Buffer.alloc(16, 0x78) });
    });

    for (const c of cases) {
      it(`${c.kind} QoS ${c.qos}, ${c.size} B: 0 slots and 0 chunk bytes per message`, async () => {
        const before = await bench.counts<Counts>();
        const r = await figures(c);
        const after = await bench.counts<Counts>();
        expect(after.errors, after.lastError).toBe(0);
        expect(after.dropped).toBe(0);
        if (c.kind === "receive") expect(after.received - before.received).toBeGreaterThanOrEqual(N);
        else expect(after.writes - before.writes).toBeGreaterThanOrEqual(N);
        if (c.kind === "publish" && c.qos > 0) expect(after.delivered - before.delivered).toBeGreaterThanOrEqual(N);
        expect(r.gcs, "a collection ran in the window: the count means nothing").toBe(0);
        expect({ slots: r.slots, chunkBytes: r.chunkBytes }).toEqual({ slots: 0, chunkBytes: 0 });
      });
    }

    if (transport.kind === "memory") {
      for (const c of cases) {
        const ceiling = ceilingOf(c.kind, c.qos, c.size as 16 | 256);
        it(`${c.kind} QoS ${c.qos}, ${c.size} B: at most ${ceiling} XS instructions per message (Moddable's client on the same packets)`, async () => {
          const r = await figures(c);
          expect(r.compute).toBeLessThanOrEqual(ceiling);
        });
      }
    }
  });
}

// MQTT 5.0 (issue 16): the same per-message goal with properties and topic aliases, on the in-memory transport.
// Broker packets are mqtt-packet's (protocolVersion 5); the client's Properties is made once in setup.
const publishProperties = {
  contentType: benchContentType, payloadFormatIndicator: true, messageExpiryInterval: 3600, userProperties: { unit: "C", site: ["a", "b"] },
};
const incomingProperties = { contentType: benchContentType, userProperties: { unit: "C", site: ["a", "b"] }, subscriptionIdentifier: 7, messageExpiryInterval: 60 };

const propertiesCase: V5Case = { properties: publishProperties, incoming: incomingProperties, subscriptionIdentifier: 7, inspect: true };
const v5Configs: { name: string; v: V5Case; check: "properties" | "alias" | "plain"; transport?: "tcp" }[] = [
  {
    name: "publish with a Properties made once; receive with content type, user properties, subscription identifier and expiry; handler reads topicIs/number/contentTypeIs",
    v: propertiesCase, check: "properties",
  },
  { name: "the same over TcpTransport on a fake embedded:io/socket/tcp", v: propertiesCase, check: "properties", transport: "tcp" },
  {
    name: "topic aliases both ways (CONNACK Topic Alias Maximum 10; incoming by alias 1 after one PUBLISH naming it); handler reads topicIs/number/contentTypeIs",
    v: { brokerAliases: 10, incomingAlias: 1, inspect: true }, check: "alias",
  },
  { name: "no properties, no aliases", v: {}, check: "plain" },
];

for (const config of v5Configs) {
  describe(`MQTT 5.0 inside XS: ${config.name}`, () => {
    let bench: MessageBench;
    const parser = () => {
      const p = mqttPacket.parser({ protocolVersion: 5 });
      const out: mqttPacket.Packet[] = [];
      p.on("packet", (x) => out.push(x));
      return { parse: (b: Buffer) => { p.parse(b); return out; } };
    };
    const written = async () => Buffer.from(await bench.xs.call<number[]>("lastWritten"));

    beforeAll(async () => {
      const transport = config.transport ?? "memory";
      bench = await startMemoryBench(1 << 19, transport, memorySetup5(config.v, transport));
    });

    afterAll(async () => {
      await bench?.close();
    });

    it("what the client writes is the 5.0 PUBLISH asked for", async () => {
      if (config.check === "alias") {
        // First QoS 0 publish names the topic with alias 1, the next carries the alias alone; QoS 1 keeps its topic.
        await bench.meter.crank(Run.Publish, 0, 0, 1);
        const first = parser().parse(await written());
        await bench.meter.crank(Run.Publish, 0, 0, 1);
        const second = parser().parse(await written());
        expect(first[0]).toMatchObject({ cmd: "publish", topic: benchTopic, qos: 0, properties: { topicAlias: 1 } });
        expect(second[0]).toMatchObject({ cmd: "publish", topic: "", qos: 0, properties: { topicAlias: 1 }, payload: Buffer.alloc(16, 0x78) });
        await bench.meter.crank(Run.Publish, 1, 0, 1);
        const q1 = parser().parse(await written())[0] as mqttPacket.IPublishPacket;
        expect(q1).toMatchObject({ cmd: "publish", topic: benchTopic, qos: 1 });
        expect(q1.properties?.topicAlias).toBeUndefined();
      } else {
        await bench.meter.crank(Run.Publish, 1, 1, 1); // QoS 1, 256 B
        const [p] = parser().parse(await written()) as mqttPacket.IPublishPacket[];
        expect(p).toMatchObject({ cmd: "publish", topic: benchTopic, qos: 1, payload: Buffer.alloc(256, 0x78) });
        if (config.check === "properties") expect(p.properties).toEqual({ ...publishProperties, payloadFormatIndicator: true });
        else expect(p.properties ?? {}).toEqual({});
      }
    });

    for (const c of cases) {
      it(`${c.kind} QoS ${c.qos}, ${c.size} B: 0 slots and 0 chunk bytes per message`, async () => {
        const before = await bench.counts<Counts & { numbers: number }>();
        const r = await bench.measure(c, N);
        const after = await bench.counts<Counts & { numbers: number }>();
        expect(after.errors, after.lastError).toBe(0);
        expect(after.dropped).toBe(0);
        if (c.kind === "receive") {
          expect(after.received - before.received).toBeGreaterThanOrEqual(N);
          if (config.v.inspect) expect(after.numbers - before.numbers).toBeGreaterThanOrEqual(N);
        } else expect(after.writes - before.writes).toBeGreaterThanOrEqual(N);
        if (c.kind === "publish" && c.qos > 0) expect(after.delivered - before.delivered).toBeGreaterThanOrEqual(N);
        expect(r.gcs, "a collection ran in the window: the count means nothing").toBe(0);
        expect({ slots: r.slots, chunkBytes: r.chunkBytes }).toEqual({ slots: 0, chunkBytes: 0 });
      });
    }
  });
}
