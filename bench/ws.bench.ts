// MQTT over WebSocket end to end through mosquitto's websockets listener: our client (WebSocketTransport over the
// ECMA-419 TCP transport, in the simulator) on both ends vs MQTT.js over ws:// on both ends, same run, same broker.
import { Mosquitto, freePort } from "../sim/brokers/mosquitto.ts";
import type { Figures } from "./index.ts";
import { runChild } from "./support/spawn.ts";
import type { CaseArgs } from "./support/child.ts";
import type { PeerKind, Qos } from "./support/peers.ts";

interface Throughput { delivered: number; sent: number; ms: number; rate: number }

// Shorter than e2e's runs (this compares transports, not JIT warm-up): medians of 3 rounds in rotating order.
const SIZES = [{ label: "16B", size: 16, count: 20000, warm: 5000 }, { label: "1KB", size: 1024, count: 5000, warm: 1000 }];
const ROUNDS = 3;

export default async function wsBench(): Promise<Figures> {
  const wsPort = await freePort();
  // mosquitto 2.0 binds websockets listeners by interface name, and needs its plain listener beside one.
  const broker = await Mosquitto.start({ config: [`listener ${wsPort} lo`, "protocol websockets"] });
  const figures: Figures = {};
  try {
    for (const qos of [0, 1, 2] as Qos[]) {
      const ratios: number[] = [];
      for (const s of SIZES) {
        const runs: Record<PeerKind, Throughput[]> = { xsmq: [], mqttjs: [] };
        for (let round = 0; round < ROUNDS; round++) {
          for (const kind of (round % 2 ? ["mqttjs", "xsmq"] : ["xsmq", "mqttjs"]) as PeerKind[]) {
            const args: CaseArgs = { kind, transport: "ws", qos, size: s.size, port: wsPort, tag: `w${kind[0]}${qos}-${s.label}`, count: s.count, warm: s.warm };
            runs[kind].push(await runChild<Throughput>("throughput", args));
          }
        }
        const ours = median(runs.xsmq), theirs = median(runs.mqttjs), ratio = ours.rate / theirs.rate;
        ratios.push(ratio);
        figures[`ws.ratio_vs_mqttjs.qos${qos}.${s.label}`] = {
          value: Math.round(ratio * 100) / 100, unit: "x",
          note: `ours (WebSocketTransport over TcpTransport) ${fmt(ours.rate)}/s vs MQTT.js over ws:// ${fmt(theirs.rate)}/s, medians of ${ROUNDS}; all runs ours ${runs.xsmq.map((r) => fmt(r.rate)).join(", ")}, theirs ${runs.mqttjs.map((r) => fmt(r.rate)).join(", ")}`,
        };
      }
      figures[`ws.ratio_vs_mqttjs.qos${qos}`] = { value: Math.round(Math.sqrt(ratios[0] * ratios[1]) * 100) / 100, unit: "x", note: "geometric mean of 16 B and 1 KB, through mosquitto's websockets listener" };
    }
  } finally {
    await broker.close();
  }
  return figures;
}

function median(runs: Throughput[]): Throughput {
  return [...runs].sort((a, b) => a.rate - b.rate)[runs.length >> 1];
}

function fmt(v: number): string {
  return Math.round(v).toLocaleString("en-US");
}
