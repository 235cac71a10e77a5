// MQTT over TLS end to end through mosquitto's TLS listener (a CA and certificate made here with openssl): our
// client (TlsTransport on the simulator's securesocket, which offers what Moddable's TLS offers: TLS 1.2, its suites)
// on both ends vs MQTT.js over mqtts:// on both ends (with Node's TLS defaults, and held to the same TLS 1.2 suites),
// same run, same broker.
import { rmSync } from "node:fs";
import { Mosquitto, freePort } from "../sim/brokers/mosquitto.ts";
import { TestCA, mosquittoTlsListener } from "../sim/brokers/tls-certs.ts";
import type { Figures } from "./index.ts";
import { runChild } from "./support/spawn.ts";
import type { CaseArgs } from "./support/child.ts";
import type { PeerKind, Qos } from "./support/peers.ts";

interface Throughput { delivered: number; sent: number; ms: number; rate: number }
interface Latency { received: number; sent: number; p50: number; p99: number; max: number }

// Transports compared, not JIT warm-up: medians of 3 rounds in rotating order, as bench/ws.bench.ts.
const SIZES = [{ label: "16B", size: 16, count: 20000, warm: 5000 }, { label: "1KB", size: 1024, count: 5000, warm: 1000 }];
const ROUNDS = 3;

/** Ours, MQTT.js with Node's TLS defaults (TLS 1.3 here), and MQTT.js held to what ours offers (TLS 1.2, Moddable's suites). */
const CONTENDERS = [
  { name: "xsmq", kind: "xsmq", letter: "x", moddableTls: false },
  { name: "mqttjs", kind: "mqttjs", letter: "m", moddableTls: false },
  { name: "mqttjs12", kind: "mqttjs", letter: "n", moddableTls: true },
] as const;
type Name = (typeof CONTENDERS)[number]["name"];

export default async function tlsBench(): Promise<Figures> {
  const ca = new TestCA();
  const tlsPort = await freePort();
  const broker = await Mosquitto.start({ config: mosquittoTlsListener(tlsPort, ca, ca.issue("broker")) });
  const figures: Figures = {};
  const base = { transport: "tls", port: tlsPort, ca: ca.pemFile } as const;
  try {
    for (const qos of [0, 1, 2] as Qos[]) {
      const ratios: Record<"mqttjs" | "mqttjs12", number[]> = { mqttjs: [], mqttjs12: [] };
      for (const s of SIZES) {
        const runs: Record<Name, Throughput[]> = { xsmq: [], mqttjs: [], mqttjs12: [] };
        for (let round = 0; round < ROUNDS; round++) {
          for (let i = 0; i < CONTENDERS.length; i++) {
            const c = CONTENDERS[(i + round) % CONTENDERS.length]; // nobody always gets the warmer broker
            const args: CaseArgs = { ...base, kind: c.kind, moddableTls: c.moddableTls, qos, size: s.size, tag: `t${c.letter}${qos}-${s.label}`, count: s.count, warm: s.warm };
            runs[c.name].push(await runChild<Throughput>("throughput", args));
          }
        }
        const ours = median(runs.xsmq);
        for (const peer of ["mqttjs", "mqttjs12"] as const) {
          const theirs = median(runs[peer]), ratio = ours.rate / theirs.rate;
          ratios[peer].push(ratio);
          const what = peer === "mqttjs" ? "MQTT.js over mqtts:// (Node's defaults)" : "MQTT.js over mqtts:// held to TLS 1.2 and Moddable's suites";
          figures[`tls.ratio_vs_${peer}.qos${qos}.${s.label}`] = {
            value: Math.round(ratio * 100) / 100, unit: "x",
            note: `ours (TlsTransport, simulator securesocket) ${fmt(ours.rate)}/s vs ${what} ${fmt(theirs.rate)}/s, medians of ${ROUNDS}; ` +
              `all runs ours ${runs.xsmq.map((r) => fmt(r.rate)).join(", ")}, theirs ${runs[peer].map((r) => fmt(r.rate)).join(", ")}`,
          };
        }
      }
      for (const peer of ["mqttjs", "mqttjs12"] as const) {
        figures[`tls.ratio_vs_${peer}.qos${qos}`] = {
          value: Math.round(Math.sqrt(ratios[peer][0] * ratios[peer][1]) * 100) / 100, unit: "x",
          note: `geometric mean of 16 B and 1 KB through mosquitto's TLS listener; ours TLS 1.2 with Moddable's suites (mosquitto picks DHE-RSA-AES256-SHA256), ` +
            (peer === "mqttjs" ? "MQTT.js Node's defaults (TLS 1.3, AES-256-GCM)" : "MQTT.js on the same terms"),
        };
      }
    }
    const lat: Partial<Record<PeerKind, Latency>> = {};
    for (const kind of ["xsmq", "mqttjs"] as PeerKind[])
      lat[kind] = await runChild<Latency>("latency", { ...base, kind, qos: 1, size: 16, tag: `t${kind[0]}lat`, count: 2000, warm: 200, interval: 2 });
    const note = (l: Latency) => `p50 ${l.p50.toFixed(2)} ms, max ${l.max.toFixed(2)} ms, ${l.received}/${l.sent} received; 16 B every 2 ms, publish to delivery over TLS`;
    figures["tls.latency_p99_ms.qos1"] = { value: Math.round(lat.xsmq!.p99 * 1000) / 1000, unit: "ms", note: note(lat.xsmq!) };
    figures["tls.latency_p99_ms.mqttjs_qos1"] = { value: Math.round(lat.mqttjs!.p99 * 1000) / 1000, unit: "ms", note: note(lat.mqttjs!) };
  } finally {
    await broker.close();
    rmSync(ca.dir, { recursive: true, force: true });
  }
  return figures;
}

function median(runs: Throughput[]): Throughput {
  return [...runs].sort((a, b) => a.rate - b.rate)[runs.length >> 1];
}

function fmt(v: number): string {
  return Math.round(v).toLocaleString("en-US");
}
