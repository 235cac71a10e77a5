// One measurement in a fresh Node process (clean heap and JIT state for each client and case), run by
// bench/support/spawn.ts: `node bin/run-ts.js bench/support/child.ts MODE JSON-ARGS`. Prints its result as
// the last stdout line, JSON. Modes: throughput, latency, alloc-publish, alloc-receive, alloc-src.
import { performance } from "node:perf_hooks";
import { Counter, percentile, produce } from "./drive.ts";
import { GcWatch, Window, emptyWindowBytes, perMessage } from "./heap.ts";
import { makePeer, type PeerKind, type Qos, type TransportKind } from "./peers.ts";
import { loopbackPerMessage } from "./loopback.ts";

export interface CaseArgs {
  kind: PeerKind;
  qos: Qos;
  size: number;
  port: number;
  tag: string;
  /** Messages measured (throughput, latency) or per window (allocation). */
  count: number;
  warm: number;
  /** latency: ms between publishes; allocation: number of windows. */
  interval?: number;
  windows?: number;
  /** xsmq only: the transport under the client (default "socket"). */
  transport?: TransportKind;
  /** transport "tls": PEM file of the CA the broker's certificate must chain to (both clients check it). */
  ca?: string;
  /** transport "tls", MQTT.js: held to TLS 1.2 and Moddable's suites, as ours is. */
  moddableTls?: boolean;
  /** 5: both clients speak MQTT 5.0 (throughput, latency). */
  protocolVersion?: 4 | 5;
}

/** Throughput: most messages between publisher and subscriber (clients and broker together), for both clients. */
const MAX_AHEAD = 500;
/** Publishes counted for bytes on the wire (throughput mode, after the timed part). */
const WIRE_COUNT = 2000;

const [mode, json] = process.argv.slice(2);
const args = JSON.parse(json ?? "{}") as CaseArgs;
const modes: Record<string, (a: CaseArgs) => Promise<unknown>> = { throughput, latency, "alloc-publish": allocPublish, "alloc-receive": allocReceive, "alloc-src": allocSrc };
const run = modes[mode];
if (!run) { console.error(`unknown mode ${mode}`); process.exit(2); }
try {
  const result = await run(args);
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
} catch (e) {
  console.error((e as Error).stack ?? e);
  process.exit(1);
}

/** Publisher and subscriber of the same kind in this process; messages/s as delivered to the subscriber. */
async function throughput(a: CaseArgs) {
  const topic = `bench/${a.tag}`;
  const sub = makePeer(a.kind, { port: a.port, clientId: `${a.tag}-sub`, payloadSize: a.size, transport: a.transport, ca: a.ca, moddableTls: a.moddableTls, protocolVersion: a.protocolVersion });
  const pub = makePeer(a.kind, { port: a.port, clientId: `${a.tag}-pub`, payloadSize: a.size, transport: a.transport, ca: a.ca, moddableTls: a.moddableTls, protocolVersion: a.protocolVersion });
  await Promise.all([sub.connected(), pub.connected()]);
  const counter = new Counter();
  await sub.subscribe(topic, a.qos, counter.onMessage);
  let base = 0, sentTotal = 0;
  const count = () => { sentTotal++; };
  const ahead = () => sentTotal - base - counter.received < MAX_AHEAD;
  await produce(pub, topic, a.qos, a.warm, count, ahead);
  await counter.until(a.warm);
  const warmDelivered = counter.received;
  base = a.warm - warmDelivered; // QoS 0 messages lost in warm-up do not count against the window
  const t0 = performance.now();
  await produce(pub, topic, a.qos, a.count, count, ahead);
  // mosquitto 2.0 holds the last QoS 2 messages queued for a subscriber until more arrive (both clients see it):
  // keep publishing past the count until the subscriber has it, then stop.
  const target = warmDelivered + a.count;
  const tail = produce(pub, topic, a.qos, MAX_AHEAD, count, ahead, () => counter.received >= target);
  await counter.until(target);
  await tail;
  const ms = counter.last - t0;
  const delivered = Math.min(a.count, counter.received - warmDelivered);
  // Wire bytes, untimed: WIRE_COUNT publishes, then everything the client holds has gone out.
  while (!pub.idle()) await turn(); // the tail's last publishes are not counted
  await turn();
  const bytes0 = pub.bytesOut();
  await produce(pub, topic, a.qos, WIRE_COUNT);
  while (!pub.idle()) await turn();
  await turn(); // the simulated socket sends what was written on the next turn
  const bytesOut = pub.bytesOut() - bytes0;
  await Promise.all([pub.close(), sub.close()]);
  return { delivered, sent: a.count, ms, rate: (delivered / ms) * 1000, bytesOut, wireCount: WIRE_COUNT };
}

/** One publish every `interval` ms; publish-to-delivery time of each, through the broker. */
async function latency(a: CaseArgs) {
  const topic = `bench/${a.tag}`;
  const sub = makePeer(a.kind, { port: a.port, clientId: `${a.tag}-sub`, payloadSize: a.size, transport: a.transport, ca: a.ca, moddableTls: a.moddableTls, protocolVersion: a.protocolVersion });
  const pub = makePeer(a.kind, { port: a.port, clientId: `${a.tag}-pub`, payloadSize: a.size, transport: a.transport, ca: a.ca, moddableTls: a.moddableTls, protocolVersion: a.protocolVersion });
  await Promise.all([sub.connected(), pub.connected()]);
  const total = a.warm + a.count;
  const sentAt = new Float64Array(total), took = new Float64Array(total).fill(NaN);
  let arrived = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => { done = r; });
  await sub.subscribe(topic, a.qos, (seq) => {
    if (seq < total) { took[seq] = performance.now() - sentAt[seq]; if (++arrived === total) done(); }
  });
  let seq = 0;
  const timer = setInterval(() => {
    if (seq >= total) return;
    sentAt[seq] = performance.now();
    pub.publishSeq(topic, a.qos, seq++);
  }, a.interval ?? 2);
  const timeout = setTimeout(done, total * (a.interval ?? 2) + 5000);
  await finished;
  clearInterval(timer);
  clearTimeout(timeout);
  await Promise.all([pub.close(), sub.close()]);
  const measured = Array.from(took.subarray(a.warm)).filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
  return { received: measured.length, sent: a.count, p50: percentile(measured, 50), p99: percentile(measured, 99), max: measured[measured.length - 1] };
}

/** Heap growth per publish in steady state (no subscriber here; the broker takes them). */
async function allocPublish(a: CaseArgs) {
  const topic = `bench/${a.tag}`;
  const pub = makePeer(a.kind, { port: a.port, clientId: `${a.tag}-pub`, payloadSize: a.size, transport: a.transport, ca: a.ca, moddableTls: a.moddableTls });
  await pub.connected();
  await produce(pub, topic, a.qos, a.warm);
  const watch = new GcWatch();
  const baseline = emptyWindowBytes();
  const windows: Window[] = [];
  for (let i = 0; i < (a.windows ?? 5); i++) {
    const w = new Window();
    windows.push(w);
    w.begin();
    await produce(pub, topic, a.qos, a.count, (sent) => { if (sent === a.count) w.end(); });
  }
  await settle();
  const r = perMessage(windows, a.count, watch, baseline);
  watch.stop();
  await pub.close();
  return { ...r, baseline };
}

/**
 * Heap growth per received message: the parent publishes without pause; windows open and close inside the
 * message callback, at fixed counts. Prints "ready" once subscribed so the parent starts publishing.
 */
async function allocReceive(a: CaseArgs) {
  const topic = `bench/${a.tag}`;
  const sub = makePeer(a.kind, { port: a.port, clientId: `${a.tag}-sub`, payloadSize: a.size, transport: a.transport, ca: a.ca, moddableTls: a.moddableTls });
  await sub.connected();
  const nWindows = a.windows ?? 5;
  const windows: Window[] = [];
  for (let i = 0; i < nWindows; i++) windows.push(new Window());
  // Window i spans messages [warm + i*(count+gap), warm + i*(count+gap) + count).
  const gap = 200;
  const starts = new Float64Array(nWindows), ends = new Float64Array(nWindows);
  for (let i = 0; i < nWindows; i++) { starts[i] = a.warm + i * (a.count + gap); ends[i] = starts[i] + a.count; }
  let received = 0, w = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => { done = r; });
  const watch = new GcWatch();
  const baseline = emptyWindowBytes();
  await sub.subscribe(topic, a.qos, () => {
    received++;
    if (w < nWindows) {
      if (received === starts[w]) windows[w].begin();
      else if (received === ends[w]) { windows[w].end(); if (++w === nWindows) done(); }
    }
  });
  process.stdout.write("ready\n");
  await finished;
  await settle();
  const r = perMessage(windows, a.count, watch, baseline);
  watch.stop();
  await sub.close();
  return { ...r, baseline };
}

/** src/ alone (session + codec, then client + session + codec) over an in-memory loopback: no sockets. */
async function allocSrc(a: CaseArgs) {
  const watch = new GcWatch();
  const baseline = emptyWindowBytes();
  const result = loopbackPerMessage(a.qos, a.size, a.count, a.windows ?? 5);
  await settle();
  const out: Record<string, unknown> = {};
  for (const [name, windows] of Object.entries(result)) out[name] = perMessage(windows, a.count, watch, baseline);
  watch.stop();
  return out;
}

function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Lets pending PerformanceObserver entries arrive. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 50));
}
