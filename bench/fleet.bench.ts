// Fleet figures for `npm run bench`: how many simulated boards running the example app one process sustains
// (one QoS 1 reading per device per second to a local mosquitto, none lost, over FLEET_SECONDS, default 60),
// CPU and memory per device, and the reconnect storm after a broker restart (time to all connected, peak rate).
// FLEET_BROKER=rabbitmq-cluster runs the same against a 2-node RabbitMQ cluster, devices alternating between the
// nodes and the monitoring subscriber on the first (figures fleet_rabbitmq_cluster.*, no storm).
import { startSimulation, fleetUser, type Simulation, type SimulationOptions } from "../sim/run/runner.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { RabbitMQ } from "../sim/brokers/rabbitmq.ts";
import type { Figures } from "./index.ts";

const BROKER = process.env.FLEET_BROKER ?? "mosquitto";
const STEPS = (process.env.FLEET_STEPS ?? (BROKER === "mosquitto" ? "1000,2000,4000" : "1000")).split(",").map(Number);
const SECONDS = Number(process.env.FLEET_SECONDS ?? 60);
const STORM_DEVICES = Number(process.env.FLEET_STORM ?? 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (text: string) => process.stderr.write(`  fleet: ${text}\n`);

interface Step { devices: number; ok: boolean; why: string; cpuMsPerDeviceS: number; rssMbPerDevice: number; rate: number; p50: number; p99: number }

async function waitConnected(sim: Simulation, n: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (sim.summary().connected === n) return true;
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
async function storm(sim: Simulation, restart: () => Promise<void>, n: number): Promise<{ seconds: number; peak: number }> {
  const connects = () => sim.devices.reduce((sum, d) => sum + d.device.network.connects, 0);
  const samples: Array<{ t: number; c: number }> = [];
  const sampler = setInterval(() => samples.push({ t: performance.now(), c: connects() }), 50);
  const start = performance.now();
  await restart();
  await sleep(500); // let the clients notice the drop before waiting for all of them
  const ok = await waitConnected(sim, n, 120_000);
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  let peak = 0;
  for (let i = 0, j = 0; i < samples.length; i++) {
    while (samples[i].t - samples[j].t > 1000) j++;
    peak = Math.max(peak, samples[i].c - samples[j].c);
  }
  if (!ok) throw new Error(`after the broker restart only ${sim.summary().connected}/${n} reconnected within 120 s`);
  return { seconds, peak };
}

async function runStep(target: Target, n: number, stormFigures: { seconds: number; peak: number }[]): Promise<Step> {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const sim = await startSimulation({ ...target.sim, devices: n, interval: 1000, startWindowMs: Math.min(20_000, n * 5) });
  const fail = (why: string): Step => ({ devices: n, ok: false, why, cpuMsPerDeviceS: NaN, rssMbPerDevice: NaN, rate: NaN, p50: NaN, p99: NaN });
  try {
    if (!(await waitConnected(sim, n, 60_000))) return fail(`only ${sim.summary().connected}/${n} connected within 60 s`);
    await sleep(2000);
    const tracker = sim.tracker!;
    // A broker slow to take a fleet's first connections (RabbitMQ) holds a backlog: measure from when it is gone.
    const settleEnd = performance.now() + 30_000;
    while (tracker.unconfirmedBefore(performance.now() - 2000) > tracker.skipped && performance.now() < settleEnd) await sleep(200);
    const cpu0 = process.cpuUsage(), t0 = performance.now(), arrived0 = tracker.arrived, skipped0 = tracker.skipped, sample0 = tracker.samplesTaken;
    let minConnected = n, maxRss = 0;
    while (performance.now() - t0 < SECONDS * 1000) {
      await sleep(500);
      minConnected = Math.min(minConnected, sim.summary().connected);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
    const cpu = process.cpuUsage(cpu0), t1 = performance.now(), dt = (t1 - t0) / 1000;
    const rate = (tracker.arrived - arrived0) / dt;
    // Give readings published before the end of the window a few seconds to arrive, then count the missing ones:
    // the window's still pending (both counts taken now, so what was pending before the window is not counted)
    // and those given up on since it began.
    const missing = () => tracker.unconfirmedBefore(t1) - tracker.unconfirmedBefore(t0) + tracker.skipped - skipped0;
    const drainEnd = performance.now() + 10_000;
    while (missing() > 0 && performance.now() < drainEnd) await sleep(100);
    const lost = missing();
    const step: Step = {
      devices: n, ok: lost === 0 && minConnected === n && rate >= 0.95 * n, why: "",
      cpuMsPerDeviceS: (cpu.user + cpu.system) / 1000 / dt / n, rssMbPerDevice: (maxRss - rss0) / 1e6 / n,
      rate, p50: tracker.percentile(50, sample0) ?? NaN, p99: tracker.percentile(99, sample0) ?? NaN,
    };
    step.why = `${rate.toFixed(0)} readings/s, lost ${lost}, min connected ${minConnected}, p50 ${step.p50.toFixed(1)} ms, p99 ${step.p99.toFixed(1)} ms, ` +
      `CPU ${(step.cpuMsPerDeviceS * n / 10).toFixed(0)}% of a core, RSS +${((maxRss - rss0) / 1e6).toFixed(0)} MB`;
    if (n === STORM_DEVICES && step.ok && target.restart) {
      const st = await storm(sim, target.restart, n);
      stormFigures.push(st);
      log(`storm: ${n} devices connected again ${st.seconds.toFixed(2)} s after the restart began, peak ${st.peak} connects/s`);
    }
    return step;
  } finally {
    await sim.stop();
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
    [`${p}.devices`]: { value: best?.devices ?? 0, unit: "devices", note: `src/app, 1 QoS 1 reading/device/s to ${target.name}, 0 lost over ${SECONDS} s; tried ${tried}; goal >= 1000` },
  };
  if (best) {
    figures[`${p}.cpu_ms_per_device_s`] = { value: best.cpuMsPerDeviceS, unit: "ms CPU per device-second", note: `simulator process only, at ${best.devices} devices` };
    figures[`${p}.rss_mb_per_device`] = { value: best.rssMbPerDevice, unit: "MB", note: `peak RSS growth / devices at ${best.devices}` };
    figures[`${p}.latency_p99_ms`] = { value: best.p99, unit: "ms", note: `from leaving the device's TCP stack to arrival at a monitoring subscriber, readings arriving in the window, at ${best.devices} devices (p50 ${best.p50.toFixed(1)} ms)` };
  }
  const st = stormFigures[0];
  if (st) {
    figures["fleet.reconnect_storm_s"] = { value: st.seconds, unit: "s", note: `${STORM_DEVICES} devices, from mosquitto restart to all connected` };
    figures["fleet.peak_connects_per_s"] = { value: st.peak, unit: "connects/s", note: "TCP connections opened per second (1 s window) during that storm" };
  }
  return figures;
}
