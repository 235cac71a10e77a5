// Heap cost of the MQTT client inside the real XS engine, through a real mosquitto: XS heap slots kept per
// message (after a forced GC, over >= 10,000 messages in steady state; goal 0), the same in live bytes from
// heap snapshots, and the footprint of a connected client with default buffers and two subscriptions.
import mqtt from "mqtt";
import { XSHost, esp8266 } from "../hosts/xs/runner.ts";
import { Mosquitto } from "../test/support/mosquitto.ts";
import type { Figures } from "./index.ts";

const messages = Number(process.env.XS_BENCH_MESSAGES ?? 10_000);
const warmup = 500;
const window = 200;
/**
 * mosquitto sends up to 20 (max_inflight_messages) QoS 2 messages before their PUBREL; the client's default
 * inflightIn is 4, so under a burst it refuses some (InflightFull). The message benches use inflightIn 20.
 * mosquitto 2.0.11 also leaves QoS 2 messages queued beyond those 20 unsent until new traffic arrives, so QoS 2
 * windows stay within 20 and wait for every exchange to finish (MQTT.js as subscriber shows the same).
 */
const brokerInflight = 20;

export default async function xsBench(): Promise<Figures> {
  const broker = await Mosquitto.start();
  const xs = await XSHost.start({ entry: "hosts/xs/entries/client.ts" });
  let peer: mqtt.MqttClient | undefined;
  const figures: Figures = {};
  try {
    // Footprint: connected client with default buffers and two subscriptions, above the loaded bundle.
    const slots0 = await xs.liveSlots();
    const bytes0 = await xs.liveBytes();
    await xs.call("connect", broker.port, "xs-bench");
    await xs.call("subscribe", "bench/rx/#", 2, false);
    await xs.call("subscribe", "bench/cmd", 0, false);
    const clientSlots = (await xs.liveSlots()) - slots0;
    const clientBytes = (await xs.liveBytes()) - bytes0;
    const buffers = await xs.call<number>("bufferBytes");
    await xs.call("close");
    await xs.call("connect", broker.port, "xs-bench", { inflightIn: brokerInflight });
    await xs.call("subscribe", "bench/rx/#", 2, false);
    figures["xs.client_footprint_bytes"] = {
      value: clientSlots * esp8266.slotBytes + buffers,
      unit: "bytes",
      note: `${clientSlots} slots x ${esp8266.slotBytes} B (ESP8266) + ${buffers} B of buffers; goal <= 2048`,
    };
    figures["xs.client_live_bytes_64bit"] = {
      value: clientBytes, unit: "bytes", note: "snapshot growth in the 64-bit worker: slots, chunks (strings, code refs), buffers",
    };

    const phase = (what: string, t: number): void => { process.stderr.write(`  xs: ${what} in ${((performance.now() - t) / 1000).toFixed(1)} s\n`); };
    for (const qos of [0, 1, 2] as const) {
      const t = performance.now();
      const topic = `bench/tx/q${qos}`; // nobody subscribes: the publish path alone
      await xs.call("publish", topic, qos, warmup);
      const s = await xs.liveSlots();
      const b = await xs.liveBytes();
      await xs.call("publish", topic, qos, messages);
      record(figures, `publish_qos${qos}`, (await xs.liveSlots()) - s, (await xs.liveBytes()) - b);
      phase(`publish QoS ${qos}`, t);
    }

    peer = await mqtt.connectAsync(broker.url, { clientId: "xs-bench-peer", reconnectPeriod: 0 });
    let total = (await xs.call<{ received: number }>("counts")).received;
    const send = async (qos: 0 | 1 | 2, count: number): Promise<void> => {
      // Windows keep the broker's queue for the XS client short; XS confirms each window before the next.
      for (let sent = 0; sent < count; ) {
        const n = Math.min(qos === 2 ? brokerInflight : window, count - sent);
        await Promise.all(Array.from({ length: n }, (_, i) => peer!.publishAsync(`bench/rx/q${qos}`, String(sent + i), { qos })));
        sent += n;
        total += n;
        await xs.call("waitReceived", total, 30_000, qos === 2);
      }
    };
    for (const qos of [0, 1, 2] as const) {
      const t = performance.now();
      await send(qos, warmup);
      const s = await xs.liveSlots();
      const b = await xs.liveBytes();
      await send(qos, messages);
      record(figures, `receive_qos${qos}`, (await xs.liveSlots()) - s, (await xs.liveBytes()) - b);
      phase(`receive QoS ${qos}`, t);
    }
    const counts = await xs.call<{ errors: number; lastError: string }>("counts");
    if (counts.errors > 0) throw new Error(`the client reported ${counts.errors} error(s) during the bench: ${counts.lastError}`);
    if (xs.faults.length) throw new Error(`exceptions in XS callbacks: ${xs.faults[0]}`);
    return figures;
  } finally {
    await peer?.endAsync().catch(() => undefined);
    await xs.close();
    await broker.close();
  }
}

function record(figures: Figures, name: string, slotGrowth: number, byteGrowth: number): void {
  figures[`xs.slots_per_msg.${name}`] = {
    value: slotGrowth / messages, unit: "slots/msg", note: `${slotGrowth} slots kept after ${messages} messages; goal 0`,
  };
  figures[`xs.bytes_per_msg.${name}`] = {
    value: byteGrowth / messages, unit: "bytes/msg", note: `live-heap snapshot growth ${byteGrowth} B over ${messages} messages`,
  };
}
