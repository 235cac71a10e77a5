// Restart soak: a publisher and a persistent subscriber at QoS 1 and at QoS 2, ours (each on a simulated board) and
// MQTT.js beside them, through one mosquitto with persistence that is restarted SOAK_RESTARTS times (default 100)
// with SIGTERM at random 0.5-3 s intervals, then drained. Lost = published (accepted by the client) and never
// delivered; dup = delivered more than once. Then SOAK_KILLS rounds (default 20) with SIGKILL, reported apart: a
// killed mosquitto forgets what it had not saved (sessions, PUBREC'd messages), which is the broker's loss, not the
// client's. SOAK_SEED replays the restart times.
import { performance } from "node:perf_hooks";
import mqtt from "mqtt";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { Device } from "../sim/board/device.ts";
import { MQTTClient, type Message } from "../src/mqtt/client.ts";
import { TcpTransport } from "../src/net/tcp-transport.ts";
import type { Figures } from "./index.ts";

const RESTARTS = Number(process.env.SOAK_RESTARTS ?? 100);
const KILLS = Number(process.env.SOAK_KILLS ?? 20);
/** Messages per second per publisher. */
const RATE = Number(process.env.SOAK_RATE ?? 50);
const SEED = Number(process.env.SOAK_SEED ?? (Date.now() % 2 ** 31));
/** After the last restart, how long the subscribers get to receive everything. */
const DRAIN_MS = 60_000;
const PAYLOAD_BYTES = 16;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (text: string) => process.stderr.write(`  soak: ${text}\n`);

/** What one publisher/subscriber pair saw. */
class Tally {
  published = 0;
  /** publish() calls the client refused (a full queue): not sent, so not lost either; reported. */
  refused = 0;
  private readonly seen: Uint8Array[] = [];
  dup = 0;

  received(seq: number): void {
    const page = this.seen[seq >> 16] ??= new Uint8Array(65536);
    if (page[seq & 65535]++ > 0) this.dup++;
  }

  get lost(): number {
    let n = 0;
    for (let s = 0; s < this.published; s++) if (!(this.seen[s >> 16]?.[s & 65535])) n++;
    return n;
  }
}

interface Pair {
  readonly kind: "ours" | "mqttjs";
  readonly qos: 1 | 2;
  readonly tally: Tally;
  publish(seq: number): void;
  close(): void;
}

function payloadOf(seq: number): Uint8Array {
  const b = new Uint8Array(PAYLOAD_BYTES);
  b[0] = seq >>> 24; b[1] = (seq >>> 16) & 255; b[2] = (seq >>> 8) & 255; b[3] = seq & 255;
  return b;
}

/** Both clients persistent (clean session off), retrying every 0.2 s (ours without backoff, as MQTT.js's reconnectPeriod). */
async function ours(port: number, qos: 1 | 2, tag: string): Promise<Pair> {
  const tally = new Tally();
  const topic = `soak/${tag}`;
  const make = (role: string) => {
    const device = new Device({ id: `${tag}-${role}`, trace: () => {} });
    const client = device.run(() => new MQTTClient({
      host: "127.0.0.1", port, clientId: `${tag}-${role}`, cleanSession: false, keepalive: 10,
      reconnect: { min: 200, max: 200, factor: 1, jitter: 0 }, inflight: 16, inflightIn: 64, queue: 256 * 1024, transport: new TcpTransport(256),
    }));
    client.onError = () => { /* connection losses are the point of the soak */ };
    return { device, client };
  };
  const sub = make("sub");
  sub.client.onMessage = (m: Message) => tally.received(((m.byte(0) << 24) | (m.byte(1) << 16) | (m.byte(2) << 8) | m.byte(3)) >>> 0);
  await new Promise<void>((resolve) => {
    sub.client.onSubscribe = () => resolve();
    sub.device.run(() => sub.client.subscribe(topic, qos));
  });
  const pub = make("pub");
  await new Promise<void>((resolve) => { if (pub.client.connected) resolve(); else pub.client.onConnect = () => resolve(); });
  return {
    kind: "ours", qos, tally,
    publish(seq) {
      if (pub.device.run(() => pub.client.publish(topic, payloadOf(seq), qos)) < 0) tally.refused++;
      else tally.published = seq + 1;
    },
    close() {
      pub.device.run(() => pub.client.close());
      sub.device.run(() => sub.client.close());
    },
  };
}

async function theirs(port: number, qos: 1 | 2, tag: string): Promise<Pair> {
  const tally = new Tally();
  const topic = `soak/${tag}`;
  const options = { clean: false, keepalive: 10, reconnectPeriod: 200, connectTimeout: 5000 };
  const sub = mqtt.connect(`mqtt://127.0.0.1:${port}`, { ...options, clientId: `${tag}-sub` });
  sub.on("error", () => {});
  sub.on("message", (_t, payload: Buffer) => tally.received(payload.readUInt32BE(0)));
  await new Promise<void>((resolve, reject) => sub.once("connect", () => sub.subscribe(topic, { qos }, (e) => (e ? reject(e) : resolve()))));
  const pub = mqtt.connect(`mqtt://127.0.0.1:${port}`, { ...options, clientId: `${tag}-pub` });
  pub.on("error", () => {});
  await new Promise<void>((resolve) => pub.once("connect", () => resolve()));
  const publishOptions = { qos };
  return {
    kind: "mqttjs", qos, tally,
    publish(seq) {
      pub.publish(topic, Buffer.from(payloadOf(seq)), publishOptions);
      tally.published = seq + 1;
    },
    close() {
      pub.end(true);
      sub.end(true);
    },
  };
}

/** mulberry32, for restart times that SOAK_SEED replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Phase { pairs: Pair[]; restarts: number; seconds: number; drainedMs: number }

/** Publishes from every pair at RATE while restarting the broker `restarts` times with `signal`, then drains. */
async function phase(broker: Mosquitto, signal: "SIGTERM" | "SIGKILL", restarts: number, name: string, random: () => number): Promise<Phase> {
  const pairs: Pair[] = [];
  for (const qos of [1, 2] as const) {
    pairs.push(await ours(broker.port, qos, `${name}-x${qos}`));
    pairs.push(await theirs(broker.port, qos, `${name}-m${qos}`));
  }
  let seq = 0;
  const publisher = setInterval(() => { for (const p of pairs) p.publish(seq); seq++; }, 1000 / RATE);
  const t0 = performance.now();
  try {
    for (let i = 0; i < restarts; i++) {
      await sleep(500 + random() * 2500);
      await broker.restart(signal);
      if ((i + 1) % 10 === 0) log(`${name}: ${i + 1}/${restarts} ${signal} restarts, ${seq} messages per publisher`);
    }
    await sleep(1000);
  } finally {
    clearInterval(publisher);
  }
  const seconds = (performance.now() - t0) / 1000;
  const d0 = performance.now();
  while (performance.now() - d0 < DRAIN_MS && pairs.some((p) => p.tally.lost > 0)) await sleep(250);
  const drainedMs = performance.now() - d0;
  await sleep(1000); // late duplicates
  for (const p of pairs) p.close();
  return { pairs, restarts, seconds, drainedMs };
}

function report(figures: Figures, prefix: string, ph: Phase, signal: string): void {
  const what = `${ph.restarts} ${signal} restarts at random 0.5-3 s intervals over ${ph.seconds.toFixed(0)} s, ${RATE} msg/s per publisher, ` +
    `publisher and persistent subscriber per client and QoS, drained ${(ph.drainedMs / 1000).toFixed(1)} s; seed ${SEED}`;
  for (const p of ph.pairs) {
    const who = p.kind === "ours" ? "" : "mqttjs.";
    const t = p.tally;
    const counts = `${t.published} published, ${t.lost} lost, ${t.dup} duplicated${t.refused ? `, ${t.refused} refused by a full queue` : ""}`;
    figures[`${prefix}.${who}lost.qos${p.qos}`] = { value: t.lost, unit: "messages", note: `${p.kind === "ours" ? "ours" : "MQTT.js"}: ${counts}; ${what}` };
    figures[`${prefix}.${who}dup.qos${p.qos}`] = { value: t.dup, unit: "messages" };
    if (p.kind === "ours") figures[`${prefix}.refused.qos${p.qos}`] = { value: t.refused, unit: "messages" };
    log(`${prefix} ${p.kind} qos${p.qos}: ${counts}`);
  }
}

export default async function soak(): Promise<Figures> {
  const broker = await Mosquitto.start({ persistence: true });
  const random = prng(SEED);
  const figures: Figures = {};
  log(`seed ${SEED} (SOAK_SEED=${SEED} replays the restart times)`);
  try {
    report(figures, "soak", await phase(broker, "SIGTERM", RESTARTS, "term", random), "SIGTERM");
    if (KILLS > 0) report(figures, "soak.sigkill", await phase(broker, "SIGKILL", KILLS, "kill", random), "SIGKILL");
  } finally {
    await broker.close();
  }
  return figures;
}
