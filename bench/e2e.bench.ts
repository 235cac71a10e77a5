// End to end through one mosquitto: our client on both ends vs MQTT.js on both ends, same run, same broker.
// Throughput (QoS 0/1/2 x 16 B/1 KB; ours on the ECMA-419 TCP transport and on Moddable's socket), QoS 1 latency at a
// moderate rate, bytes on the wire per publish, and publish-to-acknowledgement time at 10/50/100 msg/s.
// E2E=ack runs only the acknowledgement times, E2E=throughput only the 3.1.1 throughput and latency, E2E=v5 only the
// MQTT 5.0 throughput and latency (both clients at protocolVersion 5, about 2 minutes); E2E_BEFORE_SRC=DIR adds another
// checkout's client (src/ of `git archive COMMIT`) to the acknowledgement times, on this simulator.
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import type { Figures } from "./index.ts";
import { runChild, runScript } from "./support/spawn.ts";
import type { CaseArgs } from "./support/child.ts";
import type { AckLatency, AckLatencyArgs } from "./support/ack-latency.ts";
import type { PeerKind, Qos, TransportKind } from "./support/peers.ts";

interface Throughput { delivered: number; sent: number; ms: number; rate: number; bytesOut: number; wireCount: number }
interface Latency { received: number; sent: number; p50: number; p99: number; max: number }

// Long runs: short ones mostly measure JIT warm-up (15,000 messages gave ours 0.80x at QoS 0 16 B, 60,000 gave 1.23x).
const SIZES = [{ label: "16B", size: 16, count: 60000, warm: 10000 }, { label: "1KB", size: 1024, count: 20000, warm: 4000 }];
/** Rounds per case; each round runs every contender once, in rotating order, and the median rate counts. */
const ROUNDS = 5;
const TOPIC_LENGTH = "bench/".length; // + tag, below

/** Our client on the ECMA-419 TCP transport (the headline figures), on Moddable's socket, and MQTT.js. */
interface Contender { name: "tcp" | "socket" | "mqttjs"; kind: PeerKind; transport?: TransportKind; letter: string }
const CONTENDERS: Contender[] = [
  { name: "tcp", kind: "xsmq", transport: "tcp", letter: "x" },
  { name: "socket", kind: "xsmq", transport: "socket", letter: "s" },
  { name: "mqttjs", kind: "mqttjs", letter: "m" },
];

export default async function e2eBench(): Promise<Figures> {
  const broker = await Mosquitto.start();
  const figures: Figures = {};
  try {
    const part = process.env.E2E;
    if (part !== "throughput" && part !== "v5") Object.assign(figures, await ackLatencies(broker));
    if (part !== "ack" && part !== "v5") Object.assign(figures, await throughputAndLatency(broker));
    if (part !== "ack" && part !== "throughput") Object.assign(figures, await v5ThroughputAndLatency(broker, figures));
  } finally {
    await broker.close();
  }
  return figures;
}

/** Rates (msg/s) and how many messages each measures (after ACK_WARM): 8-15 s each, so the whole part stays near
 *  7 minutes (6 contenders x 2 QoS x 3 rates, one fresh process each). */
const ACK_RATES: Array<[rate: number, count: number]> = [[10, 150], [50, 400], [100, 800]];
const ACK_WARM = 20;

/**
 * Publish-to-acknowledgement time of one publisher at a steady rate, each run in a fresh process, against `broker`
 * (default settings: Nagle on) and a second mosquitto with set_tcp_nodelay true: ours on a simulated board with
 * lwip's timing (the default), ours with the host's TCP timing (segments leave and are acknowledged at once, like
 * MQTT.js's socket on loopback), MQTT.js on node:net and on a simulated board (the same timing as ours), and
 * optionally an older client on this simulator (E2E_BEFORE_SRC).
 */
async function ackLatencies(broker: Mosquitto): Promise<Figures> {
  const figures: Figures = {};
  const nodelay = await Mosquitto.start({ config: ["set_tcp_nodelay true"] });
  const before = process.env.E2E_BEFORE_SRC;
  const contenders: Array<{ name: string; port: number; args: Partial<AckLatencyArgs>; what: string }> = [
    { name: "", port: broker.port, args: { kind: "xsmq" }, what: "ours, simulated board (lwip's Nagle and delayed ACK, the broker's Nagle)" },
    { name: "host_stack.", port: broker.port, args: { kind: "xsmq", stack: "host" }, what: "ours, simulated board with the host's TCP timing" },
    { name: "mqttjs.", port: broker.port, args: { kind: "mqttjs" }, what: "MQTT.js on node:net" },
    { name: "board.mqttjs.", port: broker.port, args: { kind: "mqttjs", board: true }, what: "MQTT.js on a simulated board (the simulator's socket, lwip timing)" },
    { name: "broker_nodelay.", port: nodelay.port, args: { kind: "xsmq", peerNagle: false }, what: "ours, simulated board (lwip timing), mosquitto with set_tcp_nodelay true" },
    { name: "broker_nodelay.mqttjs.", port: nodelay.port, args: { kind: "mqttjs" }, what: "MQTT.js on node:net, mosquitto with set_tcp_nodelay true" },
  ];
  if (before) contenders.push({ name: "before.", port: broker.port, args: { kind: "xsmq", src: before }, what: `ours from ${before}, simulated board (lwip timing)` });
  try {
    for (const qos of [1, 2] as const) {
      for (const [rate, count] of ACK_RATES) {
        for (const c of contenders) {
          const args: AckLatencyArgs = { kind: "xsmq", qos, rate, count, warm: ACK_WARM, port: c.port, clientId: `ack-${c.name || "ours."}${qos}-${rate}`, ...c.args };
          const r = await runScript<AckLatency>("bench/support/ack-latency.ts", [JSON.stringify(args)], { timeoutMs: 60_000 + (count * 2000) / rate });
          const name = `e2e.ack_latency_ms.${c.name}qos${qos}.${rate}_per_s`;
          const note = `${c.what}; ${r.acknowledged}/${r.sent} acknowledged, max ${r.max.toFixed(1)} ms; 16 B at ${rate}/s, publish() to ${qos === 1 ? "PUBACK" : "PUBCOMP"}`;
          figures[`${name}.p50`] = { value: round(r.p50, 2), unit: "ms", note };
          figures[`${name}.p99`] = { value: round(r.p99, 2), unit: "ms" };
          process.stderr.write(`  e2e: ${name} p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} ms\n`);
        }
      }
    }
  } finally {
    await nodelay.close();
  }
  return figures;
}

async function throughputAndLatency(broker: Mosquitto): Promise<Figures> {
  const figures: Figures = {};
  const failures: string[] = [];
  const wire = { ours: 0, oursMin: 0, theirs: 0, theirsMin: 0, q: [[0, 0], [0, 0]] };
  for (const qos of [0, 1, 2] as Qos[]) {
    const ratios: Record<string, number[]> = { tcp: [], socket: [] };
    for (const s of SIZES) {
      const runs: Record<string, Throughput[]> = { tcp: [], socket: [], mqttjs: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < CONTENDERS.length; i++) {
          const c = CONTENDERS[(i + round) % CONTENDERS.length]; // nobody always gets the warmer broker
          const tag = `${c.letter}${qos}-${s.label}`; // same length for every contender
          const args: CaseArgs = { kind: c.kind, transport: c.transport, qos, size: s.size, port: broker.port, tag, count: s.count, warm: s.warm };
          // A run that fails (a client error) counts as rate 0 and is named in the note, not dropped.
          const t = await runChild<Throughput>("throughput", args).catch((e: Error): Throughput => {
            failures.push(`${c.name} qos${qos} ${s.label}: ${/MQTTError: [^\n]*/.exec(e.message)?.[0] ?? e.message.split("\n")[0]}`);
            return { delivered: 0, sent: s.count, ms: 0, rate: 0, bytesOut: 0, wireCount: 0 };
          });
          runs[c.name].push(t);
          if (qos < 2 && round === 0 && c.name !== "socket") {
            const min = t.wireCount * publishMinimum(TOPIC_LENGTH + tag.length, s.size, qos), out = t.bytesOut;
            if (c.name === "tcp") { wire.ours += out; wire.oursMin += min; wire.q[qos][0] += out; wire.q[qos][1] += min; }
            else { wire.theirs += out; wire.theirsMin += min; }
          }
        }
      }
      const theirs = medianRun(runs.mqttjs);
      figures[`e2e.msgs_per_s.mqttjs.qos${qos}.${s.label}`] = { value: Math.round(theirs.rate), unit: "msg/s", note: runNote(runs.mqttjs, theirs) };
      for (const name of ["tcp", "socket"] as const) {
        const ours = medianRun(runs[name]);
        const ratio = ours.rate / theirs.rate;
        ratios[name].push(ratio);
        const prefix = name === "tcp" ? "e2e.ratio_vs_mqttjs" : "e2e.ratio_vs_mqttjs.socket";
        const via = name === "tcp" ? "ECMA-419 TCP transport" : "Moddable socket transport";
        figures[`${prefix}.qos${qos}.${s.label}`] = { value: round(ratio, 2), unit: "x", note: `ours (${via}) ${fmt(ours.rate)}/s vs MQTT.js ${fmt(theirs.rate)}/s, medians of ${ROUNDS}` };
        figures[`e2e.msgs_per_s.xsmq${name === "tcp" ? "" : "_socket"}.qos${qos}.${s.label}`] = { value: Math.round(ours.rate), unit: "msg/s", note: runNote(runs[name], ours) };
      }
    }
    for (const name of ["tcp", "socket"] as const) {
      const r = ratios[name];
      figures[`${name === "tcp" ? "e2e.ratio_vs_mqttjs" : "e2e.ratio_vs_mqttjs.socket"}.qos${qos}`] = {
        value: round(Math.sqrt(r[0] * r[1]), 2), unit: "x",
        note: `geometric mean of 16 B and 1 KB (${name} transport); pub+sub in one process per client, publisher held <= 500 msgs ahead of the subscriber (all clients), median of ${ROUNDS} rounds in rotating order; goal >= 1.5`,
      };
    }
  }

  if (failures.length) figures["e2e.failed_runs"] = { value: failures.length, unit: "runs", note: [...new Set(failures)].join("; ") };
  else figures["e2e.failed_runs"] = { value: 0, unit: "runs" };

  const lat: Record<PeerKind, Latency> = {} as Record<PeerKind, Latency>;
  for (const kind of ["xsmq", "mqttjs"] as PeerKind[]) {
    lat[kind] = await runChild<Latency>("latency", { kind, transport: "tcp", qos: 1, size: 16, port: broker.port, tag: `${kind[0]}lat`, count: 2000, warm: 200, interval: 2 });
  }
  const latNote = (l: Latency) => `p50 ${l.p50.toFixed(2)} ms, max ${l.max.toFixed(2)} ms, ${l.received}/${l.sent} received; 16 B every 2 ms (500/s), publish to delivery`;
  figures["e2e.latency_p99_ms.qos1"] = { value: round(lat.xsmq.p99, 3), unit: "ms", note: latNote(lat.xsmq) };
  figures["e2e.latency_p99_ms.mqttjs_qos1"] = { value: round(lat.mqttjs.p99, 3), unit: "ms", note: latNote(lat.mqttjs) };

  figures["wire.bytes_per_publish_ratio"] = {
    value: round(wire.ours / wire.oursMin, 4), unit: "x",
    note: `bytes our publisher wrote on the TCP transport (simulator's network.bytesOut) / protocol minimum, QoS 0+1, 16 B and 1 KB, ${fmt(wire.ours)} bytes`,
  };
  figures["wire.bytes_per_publish_ratio.qos0"] = { value: round(wire.q[0][0] / wire.q[0][1], 4), unit: "x" };
  figures["wire.bytes_per_publish_ratio.qos1"] = { value: round(wire.q[1][0] / wire.q[1][1], 4), unit: "x" };
  figures["wire.mqttjs_bytes_per_publish_ratio"] = { value: round(wire.theirs / wire.theirsMin, 4), unit: "x", note: "MQTT.js socket.bytesWritten, same cases" };
  return figures;
}

/** Rounds of the MQTT 5.0 part (fewer than 3.1.1's: it stays near 2 minutes). */
const V5_ROUNDS = 3;

/**
 * MQTT 5.0 (issue 16): our client (ECMA-419 TCP transport) vs MQTT.js, both at protocolVersion 5 with their
 * defaults, through the same mosquitto: throughput QoS 0/1/2 x 16 B/1 KB (medians of V5_ROUNDS, rotating order),
 * QoS 1 latency, and bytes per QoS 0 publish (ours gives the topic an alias: mosquitto allows 10; MQTT.js does not
 * alias unless asked). With the 3.1.1 part in the same run, ours at 5.0 against ours at 3.1.1 too.
 */
async function v5ThroughputAndLatency(broker: Mosquitto, v311: Figures): Promise<Figures> {
  const figures: Figures = {};
  const failures: string[] = [];
  const contenders = [{ name: "xsmq", kind: "xsmq" as PeerKind, letter: "x" }, { name: "mqttjs", kind: "mqttjs" as PeerKind, letter: "m" }];
  for (const qos of [0, 1, 2] as Qos[]) {
    const ratios: number[] = [];
    for (const s of SIZES) {
      const runs: Record<string, Throughput[]> = { xsmq: [], mqttjs: [] };
      for (let round = 0; round < V5_ROUNDS; round++) {
        for (let i = 0; i < contenders.length; i++) {
          const c = contenders[(i + round) % contenders.length];
          const tag = `${c.letter}5${qos}-${s.label}`;
          const args: CaseArgs = { kind: c.kind, transport: "tcp", qos, size: s.size, port: broker.port, tag, count: s.count, warm: s.warm, protocolVersion: 5 };
          const t = await runChild<Throughput>("throughput", args).catch((e: Error): Throughput => {
            failures.push(`${c.name} v5 qos${qos} ${s.label}: ${/MQTTError: [^\n]*/.exec(e.message)?.[0] ?? e.message.split("\n")[0]}`);
            return { delivered: 0, sent: s.count, ms: 0, rate: 0, bytesOut: 0, wireCount: 0 };
          });
          runs[c.name].push(t);
        }
      }
      const ours = medianRun(runs.xsmq), theirs = medianRun(runs.mqttjs), ratio = ours.rate / theirs.rate;
      ratios.push(ratio);
      const key = `qos${qos}.${s.label}`;
      figures[`e2e.v5.msgs_per_s.xsmq.${key}`] = { value: Math.round(ours.rate), unit: "msg/s", note: runNote(runs.xsmq, ours) };
      figures[`e2e.v5.msgs_per_s.mqttjs.${key}`] = { value: Math.round(theirs.rate), unit: "msg/s", note: runNote(runs.mqttjs, theirs) };
      figures[`e2e.v5.ratio_vs_mqttjs.${key}`] = { value: round(ratio, 2), unit: "x", note: `MQTT 5.0: ours (ECMA-419 TCP transport) ${fmt(ours.rate)}/s vs MQTT.js ${fmt(theirs.rate)}/s, medians of ${V5_ROUNDS}` };
      const ours311 = v311[`e2e.msgs_per_s.xsmq.${key}`];
      if (ours311) {
        figures[`e2e.v5.ratio_vs_311.${key}`] = {
          value: round(ours.rate / ours311.value, 2), unit: "x", note: `ours at 5.0 ${fmt(ours.rate)}/s / ours at 3.1.1 ${fmt(ours311.value)}/s, same bench run, same broker`,
        };
      }
      if (qos === 0 && ours.wireCount > 0 && theirs.wireCount > 0) {
        figures[`e2e.v5.wire_bytes_per_publish.xsmq.${key}`] = {
          value: round(ours.bytesOut / ours.wireCount, 2), unit: "B", note: `MQTT 5.0 QoS 0, topic "bench/${"x5" + qos + "-" + s.label}" by alias after the first; protocol minimum at 3.1.1 ${publishMinimum(TOPIC_LENGTH + `x5${qos}-${s.label}`.length, s.size, 0)} B`,
        };
        figures[`e2e.v5.wire_bytes_per_publish.mqttjs.${key}`] = { value: round(theirs.bytesOut / theirs.wireCount, 2), unit: "B", note: "MQTT.js 5 with protocolVersion 5 and its defaults (no topic alias), socket.bytesWritten" };
      }
    }
    figures[`e2e.v5.ratio_vs_mqttjs.qos${qos}`] = {
      value: round(Math.sqrt(ratios[0] * ratios[1]), 2), unit: "x",
      note: `MQTT 5.0, geometric mean of 16 B and 1 KB; pub+sub in one process per client, publisher held <= 500 msgs ahead of the subscriber, median of ${V5_ROUNDS} rounds in rotating order`,
    };
  }
  figures["e2e.v5.failed_runs"] = failures.length ? { value: failures.length, unit: "runs", note: [...new Set(failures)].join("; ") } : { value: 0, unit: "runs" };

  const lat: Record<string, Latency> = {};
  for (const kind of ["xsmq", "mqttjs"] as PeerKind[]) {
    lat[kind] = await runChild<Latency>("latency", { kind, transport: "tcp", qos: 1, size: 16, port: broker.port, tag: `${kind[0]}lat5`, count: 2000, warm: 200, interval: 2, protocolVersion: 5 });
  }
  const latNote = (l: Latency) => `MQTT 5.0; p50 ${l.p50.toFixed(2)} ms, max ${l.max.toFixed(2)} ms, ${l.received}/${l.sent} received; 16 B every 2 ms (500/s), publish to delivery`;
  figures["e2e.v5.latency_p99_ms.qos1"] = { value: round(lat.xsmq.p99, 3), unit: "ms", note: latNote(lat.xsmq) };
  figures["e2e.v5.latency_p99_ms.mqttjs_qos1"] = { value: round(lat.mqttjs.p99, 3), unit: "ms", note: latNote(lat.mqttjs) };
  return figures;
}

/** The run with the median rate (of an odd count). */
function medianRun(runs: Throughput[]): Throughput {
  const sorted = [...runs].sort((a, b) => a.rate - b.rate);
  return sorted[sorted.length >> 1];
}

function runNote(runs: Throughput[], median: Throughput): string {
  const lost = median.delivered < median.sent ? `, ${median.sent - median.delivered} of ${median.sent} not delivered` : "";
  const rates = runs.map((r) => fmt(r.rate)).join(", ");
  return `median run: ${median.delivered} delivered in ${median.ms.toFixed(0)} ms${lost}; all runs ${rates} /s`;
}

/** Fixed header + remaining-length bytes + topic length field + topic + packet id (QoS > 0) + payload. */
export function publishMinimum(topicBytes: number, payloadBytes: number, qos: number): number {
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payloadBytes;
  const lengthBytes = remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4;
  return 1 + lengthBytes + remaining;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function fmt(v: number): string {
  return Math.round(v).toLocaleString("en-US");
}
