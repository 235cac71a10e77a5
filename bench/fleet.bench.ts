// Fleet figures for `npm run bench`: how many simulated boards running the example app this machine sustains
// (one QoS 1 reading per device per second to a local mosquitto, none lost, over FLEET_SECONDS, default 60), at
// FLEET_STEPS devices (default 1,000 to 10,000), spread over worker processes (sim/run/fleet.ts: one per
// FLEET_PER_WORKER devices, default 5,000, at most one per CPU; FLEET_WORKERS fixes the count), with CPU and memory
// per device at each step, and the reconnect storm after a broker restart (time to all connected, peak rate).
// FLEET_BROKER=rabbitmq-cluster runs the same against a 2-node RabbitMQ cluster, devices alternating between the
// nodes and the monitoring subscribers on the first (figures fleet_rabbitmq_cluster.*, no storm).
import { availableParallelism } from "node:os";
import { fleetUser, type SimulationOptions } from "../sim/run/runner.ts";
import { Fleet, type FleetWindow } from "../sim/run/fleet.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { RabbitMQ } from "../sim/brokers/rabbitmq.ts";
import type { Figures } from "./index.ts";

const BROKER = process.env.FLEET_BROKER ?? "mosquitto";
const STEPS = (process.env.FLEET_STEPS ?? (BROKER === "mosquitto" ? "1000,2000,4000,7000,10000" : "1000")).split(",").map(Number);
const PER_WORKER = Number(process.env.FLEET_PER_WORKER ?? 5000);
const workersFor = (n: number) => Number(process.env.FLEET_WORKERS ?? Math.min(availableParallelism(), Math.ceil(n / PER_WORKER)));
const SECONDS = Number(process.env.FLEET_SECONDS ?? 60);
const STORM_DEVICES = Number(process.env.FLEET_STORM ?? 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (text: string) => process.stderr.write(`  fleet: ${text}\n`);

interface Step { devices: number; ok: boolean; why: string; window?: FleetWindow }

async function waitConnected(fleet: Fleet, n: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (fleet.summary().connected === n) return true;
    await sleep(100);
  }
  return false;
}

/** Where the fleet connects: the simulation's broker options, a restart for the storm (mosquitto only), a stop. */
interface Target { name: string; prefix: string; sim: SimulationOptions; restart?: () => Promise<void>; close(): Promise<void> }

async function startTarget(devices: number): Promise<Target> {
  if (BROKER === "mosquitto") {
    const m = await Mosquitto.start();
    return { name: "mosquitto", prefix: "fleet", sim: { broker: m.url }, restart: () => m.restart(), close: () => m.close() };
  }
  if (BROKER === "rabbitmq-cluster") {
    // RabbitMQ refuses blank passwords: each device's user (as the simulator names them) gets one shared key.
    const key = "fleet-key";
    const users = Object.fromEntries(Array.from({ length: devices }, (_, i) => [fleetUser(i), key]));
    const r = await RabbitMQ.start({ nodes: 2, users });
    return { name: "a 2-node RabbitMQ cluster", prefix: "fleet_rabbitmq_cluster",
      sim: { broker: r.nodes[0].url, brokers: [r.nodes[1].url], key }, close: () => r.close() };
  }
  throw new Error(`FLEET_BROKER=${BROKER}: use mosquitto (default) or rabbitmq-cluster`);
}

/** Restarts the broker under a connected fleet: seconds until all are connected again, and the peak TCP connects/s. */
async function storm(fleet: Fleet, restart: () => Promise<void>, n: number): Promise<{ seconds: number; peak: number }> {
  const samples: Array<{ t: number; c: number }> = [];
  const sampler = setInterval(() => samples.push({ t: performance.now(), c: fleet.connects() }), 50);
  const start = performance.now();
  await restart();
  await sleep(1500); // let the clients notice the drop (and their workers report it) before waiting for all of them
  const ok = await waitConnected(fleet, n, 120_000);
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  let peak = 0;
  for (let i = 0, j = 0; i < samples.length; i++) {
    while (samples[i].t - samples[j].t > 1000) j++;
    peak = Math.max(peak, samples[i].c - samples[j].c);
  }
  if (!ok) throw new Error(`after the broker restart only ${fleet.summary().connected}/${n} reconnected within 120 s`);
  return { seconds, peak };
}

async function runStep(target: Target, n: number, stormFigures: { seconds: number; peak: number }[]): Promise<Step> {
  const workers = workersFor(n);
  const fleet = await Fleet.start({ ...target.sim, broker: target.sim.broker!, devices: n, workers, interval: 1000, startWindowMs: Math.min(20_000, n * 5) });
  try {
    if (!(await waitConnected(fleet, n, 60_000))) return { devices: n, ok: false, why: `only ${fleet.summary().connected}/${n} connected within 60 s` };
    await sleep(2000);
    await fleet.mark();
    await sleep(SECONDS * 1000);
    // Readings sent before the end of the window get a few seconds to arrive; the missing ones are lost.
    const w = await fleet.measure(10_000);
    const ok = w.lost === 0 && w.minConnected === n && w.rate >= 0.95 * n;
    const why = `${w.rate.toFixed(0)} readings/s, lost ${w.lost}, min connected ${w.minConnected}, p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms, ` +
      `${w.workers} worker process${w.workers > 1 ? "es" : ""}, CPU ${(w.cpuMsPerDeviceS * n / 10).toFixed(0)}% of a core ` +
      `(${w.cpuMsPerDeviceS.toFixed(3)} ms per device-second), RSS +${(w.rssBytesPerDevice / 1e3).toFixed(1)} KB per device (${(w.rssBytes / 1e6).toFixed(0)} MB in all)`;
    if (n === STORM_DEVICES && ok && target.restart) {
      const st = await storm(fleet, target.restart, n);
      stormFigures.push(st);
      log(`storm: ${n} devices connected again ${st.seconds.toFixed(2)} s after the restart began, peak ${st.peak} connects/s`);
    }
    return { devices: n, ok, why, window: w };
  } finally {
    await fleet.stop();
  }
}

export default async function fleet(): Promise<Figures> {
  const target = await startTarget(Math.max(...STEPS));
  const steps: Step[] = [];
  const stormFigures: { seconds: number; peak: number }[] = [];
  try {
    for (const n of STEPS) {
      log(`${n} devices on ${target.name}, ${SECONDS} s ...`);
      const step = await runStep(target, n, stormFigures);
      steps.push(step);
      log(`${n} devices: ${step.ok ? "sustained" : "NOT sustained"}: ${step.why}`);
      if (!step.ok) break;
      await sleep(2000);
    }
  } finally {
    await target.close();
  }
  const best = steps.filter((s) => s.ok).pop();
  const tried = steps.map((s) => `${s.devices}${s.ok ? "" : " (failed)"}`).join(", ");
  const p = target.prefix;
  const figures: Figures = {
    [`${p}.devices`]: { value: best?.devices ?? 0, unit: "devices", note: `src/app, 1 QoS 1 reading/device/s to ${target.name}, 0 lost over ${SECONDS} s, on ${availableParallelism()} CPUs; tried ${tried}; goal >= 10,000` },
  };
  for (const step of steps) {
    const w = step.window;
    if (!w) continue;
    const at = `at ${step.devices} devices, ${w.workers} worker process${w.workers > 1 ? "es" : ""}${step.ok ? "" : " (not sustained)"}`;
    figures[`${p}.step.${step.devices}.cpu_ms_per_device_s`] = { value: round(w.cpuMsPerDeviceS, 4), unit: "ms CPU per device-second", note: `${at}: ${step.why}` };
    figures[`${p}.step.${step.devices}.rss_kb_per_device`] = { value: round(w.rssBytesPerDevice / 1e3, 1), unit: "KB", note: `peak RSS growth of the workers / devices, ${at}` };
  }
  const bw = best?.window;
  if (best && bw) {
    figures[`${p}.cpu_ms_per_device_s`] = { value: bw.cpuMsPerDeviceS, unit: "ms CPU per device-second", note: `simulator worker processes only (not the broker), at ${best.devices} devices` };
    figures[`${p}.rss_mb_per_device`] = { value: bw.rssBytesPerDevice / 1e6, unit: "MB", note: `peak RSS growth / devices at ${best.devices}` };
    figures[`${p}.latency_p99_ms`] = { value: bw.p99, unit: "ms", note: `from leaving the device's TCP stack to arrival at a monitoring subscriber, readings arriving in the window, at ${best.devices} devices (p50 ${bw.p50.toFixed(1)} ms)` };
  }
  const st = stormFigures[0];
  if (st) {
    figures["fleet.reconnect_storm_s"] = { value: st.seconds, unit: "s", note: `${STORM_DEVICES} devices, from mosquitto restart to all connected` };
    figures["fleet.peak_connects_per_s"] = { value: st.peak, unit: "connects/s", note: "TCP connections opened per second (1 s window) during that storm" };
  }
  return figures;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
