// The MQTT client inside the real XS engine through the XS host and a real mosquitto, over TcpTransport (default)
// and SocketTransport: slots and chunk bytes allocated per message in GC-free windows of >= 10,000 messages, the
// host's stand-ins included (they stand for native code, so the goal is 0 for them too); XS instructions per
// message through the host; slots kept per message after a forced GC (no leak); the footprint of a connected
// client with its modules preloaded and the host's stand-ins apart; and what loading the modules costs in RAM.
import mqtt from "mqtt";
import { XSHost, esp8266 } from "../sim/xs/host.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { BrokerProxy } from "../sim/brokers/proxy.ts";
import { XSMeter } from "../sim/xs/meter.ts";
import { Builtin } from "../sim/xs/entries/meter-ops.ts";
import type { Figures } from "./index.ts";

const messages = Number(process.env.XS_BENCH_MESSAGES ?? 10_000);
const warmup = 500;
/** Heap slots free for one window: room for 700 slots per message (the host allocated up to 555 before). */
const heapSlots = Math.max(1 << 21, messages * 700);
/**
 * Messages the peer publishes before waiting for the XS client's acknowledgements: mosquitto sends at most 20
 * (max_inflight_messages) QoS 1/2 messages unacknowledged and holds QoS 2 messages beyond those until new traffic,
 * so QoS 2 batches stay within 20.
 */
const batch = { 0: 200, 1: 200, 2: 20 } as const;
const clientEntry = "sim/xs/entries/client.ts";

export default async function xsBench(): Promise<Figures> {
  const broker = await Mosquitto.start();
  const figures: Figures = {};
  try {
    // XS_BENCH=v5: only the MQTT 5.0 rows (the client at protocolVersion 5 over TcpTransport; peers stay at 3.1.1).
    if (process.env.XS_BENCH !== "v5") {
      await footprint(figures, broker.port);
      await modulesRam(figures);
      for (const transport of ["tcp", "socket"] as const) await perMessage(figures, transport, broker);
    }
    await perMessage(figures, "tcp", broker, 5);
  } finally {
    await broker.close();
  }
  return figures;
}

/** Live heap of a connected client (default buffers, two subscriptions), stand-ins for native objects apart. */
async function footprint(figures: Figures, port: number): Promise<void> {
  const xs = await XSHost.start({ entry: clientEntry });
  try {
    const meter = new XSMeter(xs);
    // Preloaded modules: what exists once they are loaded (code, classes, prototypes, module state) is in flash.
    // (After a first call: the host frees some 8 KB of start-up chunks then.)
    await xs.call("counts");
    const loaded = await meter.snapshot();
    await xs.call("connect", port, "xs-footprint");
    await xs.call("subscribe", "bench/rx/#", 2, false);
    await xs.call("subscribe", "bench/cmd", 0, false);
    const connected = await meter.snapshot();
    const buffers = await xs.call<number>("bufferBytes");
    await xs.call("standIns", port);
    const withStandIns = await meter.snapshot();
    await xs.call("dropStandIns");
    const standIns = { slots: withStandIns.slots - connected.slots, chunkBytes: withStandIns.chunkBytes - connected.chunkBytes };
    const slots = connected.slots - loaded.slots - standIns.slots;
    const chunkBytes = connected.chunkBytes - loaded.chunkBytes - standIns.chunkBytes;
    figures["xs.client_footprint_bytes"] = {
      value: slots * esp8266.slotBytes + chunkBytes, unit: "bytes",
      note: `${slots} slots x ${esp8266.slotBytes} B (ESP8266) + ${chunkBytes} B of chunks (strings, array storage, ` +
        `${buffers} B of buffers; sizes as in the 64-bit worker: chunk headers 16 B, array items 32 B, about half on the device); ` +
        `connected, default buffers, 2 subscriptions, modules preloaded; the host's stand-ins for the TCP socket and timer apart ` +
        `(${standIns.slots} slots, ${standIns.chunkBytes} B); goal <= 2048`,
    };
    figures["xs.client_footprint_slots"] = { value: slots, unit: "slots", note: "of xs.client_footprint_bytes" };
    figures["xs.client_footprint_chunk_bytes"] = { value: chunkBytes, unit: "bytes", note: `of xs.client_footprint_bytes (64-bit sizes); ${buffers} B of it buffers` };
    figures["xs.host_standins_bytes"] = {
      value: standIns.slots * esp8266.slotBytes + standIns.chunkBytes, unit: "bytes",
      note: `the XS host's JS stand-ins for one TCP socket and one timer (${standIns.slots} slots, ${standIns.chunkBytes} B of chunks): native objects on a board`,
    };
  } finally {
    await xs.close();
  }
}

/** What loading src/mqtt/client's modules costs in RAM when they are not preloaded. */
async function modulesRam(figures: Figures): Promise<void> {
  const heap = async (entry: string) => {
    const xs = await XSHost.start({ entry });
    try {
      await xs.call("nothing"); // the host frees start-up chunks after the first call
      return await new XSMeter(xs).snapshot();
    } finally {
      await xs.close();
    }
  };
  const without = await heap("sim/xs/entries/empty.ts");
  const withModules = await heap("sim/xs/entries/modules.ts");
  const slots = withModules.slots - without.slots;
  const chunkBytes = withModules.chunkBytes - without.chunkBytes;
  figures["xs.modules_ram_slots"] = {
    value: slots, unit: "slots",
    note: `src/mqtt/client and what it imports, loaded but not preloaded: ${slots} slots (${slots * esp8266.slotBytes} B on an ESP8266) ` +
      `+ ${chunkBytes} B of chunks (byte code, strings; 64-bit sizes); preloaded, all of it is in flash`,
  };
}

interface Case { what: string; run: (count: number) => Promise<number> }

/** Per-message figures of publish and receive at QoS 0/1/2 through the host, over one transport. */
async function perMessage(figures: Figures, transport: "tcp" | "socket", broker: Mosquitto, protocolVersion: 4 | 5 = 4): Promise<void> {
  const proxy = await BrokerProxy.start(broker.port, { count: true });
  const xs = await XSHost.start({ entry: clientEntry });
  let peer: mqtt.MqttClient | undefined;
  try {
    const meter = new XSMeter(xs);
    await meter.prepare(heapSlots);
    await xs.call("connect", proxy.port, `xs-bench-${transport}-${protocolVersion}`, { inflightIn: batch[2], transport, protocolVersion });
    await xs.call("subscribe", "bench/rx/#", 2, false);
    peer = await mqtt.connectAsync(broker.url, { clientId: `xs-bench-peer-${transport}`, reconnectPeriod: 0 });
    let received = (await xs.call<{ received: number }>("counts")).received;
    const cases: Case[] = [];
    for (const qos of [0, 1, 2] as const) {
      cases.push({
        what: `publish_qos${qos}`,
        run: async (count) => { await xs.call("publish", `bench/tx/q${qos}`, qos, count); return count; },
      });
    }
    for (const qos of [0, 1, 2] as const) {
      cases.push({
        what: `receive_qos${qos}`,
        // The peer publishes in batches and waits for the XS client's acknowledgements, seen by the proxy (a
        // QoS 0 batch ends with one QoS 1 message, acknowledged after everything before it): no call into XS.
        run: async (count) => {
          let total = 0;
          for (let sent = 0; sent < count; ) {
            const n = Math.min(batch[qos], count - sent);
            const acks = qos === 2 ? "pubcomp" : "puback";
            const target = proxy.count(acks) + (qos === 0 ? 1 : n);
            await Promise.all(Array.from({ length: n }, (_, i) => peer!.publishAsync(`bench/rx/q${qos}`, String(sent + i), { qos })));
            if (qos === 0) await peer!.publishAsync("bench/rx/sync", "", { qos: 1 });
            await proxy.until(acks, target);
            sent += n;
            total += n + (qos === 0 ? 1 : 0);
          }
          received += total;
          if (count > 0) await xs.call("waitReceived", received, 30_000, qos === 2);
          return total;
        },
      });
    }
    // What a crank costs that delivers nothing to the client (xsnap's buffer for the delivery, the bridge): the
    // host's share that does not depend on the message.
    const idleCranks = 200;
    const none = await meter.around(async () => {});
    const idle = await meter.around(async () => { for (let i = 0; i < idleCranks; i++) await meter.crank(Builtin.Nothing); });
    const perCrank = { slots: (idle.slots - none.slots) / idleCranks, chunkBytes: (idle.chunkBytes - none.chunkBytes) / idleCranks };
    const prefix = protocolVersion === 5 ? "v5." : transport === "tcp" ? "" : "socket.";
    if (protocolVersion === 4) figures[`xs.host_alloc_slots_per_crank.${prefix.replace(/\.$/, "") || "tcp"}`] = {
      value: round(perCrank.slots), unit: "slots/crank",
      note: `a crank that delivers nothing to the client (xsnap's buffer for the delivery, the bridge); chunk bytes ${round(perCrank.chunkBytes)}/crank`,
    };
    for (const c of cases) {
      const t = performance.now();
      await c.run(warmup);
      const empty = await meter.around(async () => { await c.run(0); });
      const keptBefore = await xs.liveSlots(); // a forced collection: the window starts from a full free list
      let n = 0;
      const w = await meter.around(async () => { n = await c.run(messages); });
      const kept = (await xs.liveSlots()) - keptBefore;
      const gcs = Number(w.gc) + Number(empty.gc);
      const valid = gcs === 0 ? "" : " VOID: a collection ran in the window";
      const via = `${transport === "tcp" ? "TcpTransport (default)" : "SocketTransport"}${protocolVersion === 5 ? ", MQTT 5.0 (peer MQTT.js at 3.1.1)" : ""}`;
      figures[`xs.host_alloc_slots_per_msg.${prefix}${c.what}`] = {
        value: round((w.slots - empty.slots) / n), unit: "slots/msg",
        note: `through the XS host and mosquitto over ${via}, allocated in a window of ${n} messages with ${gcs} GCs${valid}; ` +
          `chunk bytes ${round((w.chunkBytes - empty.chunkBytes) / n)}/msg; ${w.cranks} cranks, at ${round(perCrank.slots)} slots each for a crank ` +
          `that delivers nothing; goal 0`,
      };
      figures[`xs.host_alloc_chunk_bytes_per_msg.${prefix}${c.what}`] = {
        value: round((w.chunkBytes - empty.chunkBytes) / n), unit: "bytes/msg", note: `as host_alloc_slots_per_msg (64-bit chunk sizes)${valid}`,
      };
      figures[`xs.host_compute_per_msg.${prefix}${c.what}`] = {
        value: Math.round((w.compute - empty.compute) / n), unit: "instructions/msg",
        note: `${protocolVersion === 5 ? "MQTT 5.0; " : ""}every crank of the window (${w.cranks} for ${n} messages): the client, the host's JS stand-ins (native on a board) and the bench's pacing`,
      };
      figures[`xs.kept_slots_per_msg.${prefix}${c.what}`] = {
        value: round(kept / n), unit: "slots/msg", note: `${kept} slots still alive after a forced GC, ${n} messages later; goal 0`,
      };
      process.stderr.write(`  xs: ${protocolVersion === 5 ? "v5 " : ""}${transport} ${c.what} in ${((performance.now() - t) / 1000).toFixed(1)} s${valid}\n`);
    }
    const counts = await xs.call<{ errors: number; lastError: string }>("counts");
    if (counts.errors > 0) throw new Error(`the client reported ${counts.errors} error(s) during the bench: ${counts.lastError}`);
    if (xs.faults.length) throw new Error(`exceptions in XS callbacks: ${xs.faults[0]}`);
  } finally {
    await peer?.endAsync().catch(() => undefined);
    await xs.close();
    await proxy.close();
  }
}

function round(v: number): number {
  const r = Math.round(v * 100) / 100;
  return r === 0 ? 0 : r;
}
