// Fleet figures for `npm run bench`: how many simulated boards running the example app one process sustains
// (one QoS 1 reading per device per second to a local mosquitto, none lost, over FLEET_SECONDS, default 60),
// CPU and memory per device, and the reconnect storm after a broker restart (time to all connected, peak rate).
import { startSimulation, type Simulation } from "../sim/run/runner.ts";
import { Mosquitto } from "../test/support/mosquitto.ts";
import type { Figures } from "./index.ts";


const STEPS = (process.env.FLEET_STEPS ?? "1000,2000,4000").split(",").map(Number);
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

/** Restarts the broker under a connected fleet: seconds until all are connected again, and the peak TCP connects/s. */
async function storm(sim: Simulation, mosquitto: Mosquitto, n: number): Promise<{ seconds: number; peak: number }> {
  const connects = () => sim.devices.reduce((sum, d) => sum + d.device.network.connects, 0);
  const samples: Array<{ t: number; c: number }> = [];
  const sampler = setInterval(() => samples.push({ t: performance.now(), c: connects() }), 50);
  const start = performance.now();
  await mosquitto.restart();
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

async function runStep(mosquitto: Mosquitto, n: number, stormFigures: { seconds: number; peak: number }[]): Promise<Step> {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const sim = await startSimulation({ devices: n, broker: mosquitto.url, interval: 1000, startWindowMs: Math.min(20_000, n * 5) });
  const fail = (why: string): Step => ({ devices: n, ok: false, why, cpuMsPerDeviceS: NaN, rssMbPerDevice: NaN, rate: NaN, p50: NaN, p99: NaN });
  try {
    if (!(await waitConnected(sim, n, 60_000))) return fail(`only ${sim.summary().connected}/${n} connected within 60 s`);
    await sleep(2000);
    const tracker = sim.tracker!;
    const lostBefore = tracker.unconfirmedBefore(performance.now() - 5000);
    const cpu0 = process.cpuUsage(), t0 = performance.now(), arrived0 = tracker.arrived;
    let minConnected = n, maxRss = 0;
    while (performance.now() - t0 < SECONDS * 1000) {
      await sleep(500);
      minConnected = Math.min(minConnected, sim.summary().connected);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
    const cpu = process.cpuUsage(cpu0), t1 = performance.now(), dt = (t1 - t0) / 1000;
    const rate = (tracker.arrived - arrived0) / dt;
    // Give readings published before the end of the window a few seconds to arrive, then count the missing ones.
    const drainEnd = performance.now() + 10_000;
    while (tracker.unconfirmedBefore(t1) > lostBefore && performance.now() < drainEnd) await sleep(100);
    const lost = tracker.unconfirmedBefore(t1) - lostBefore;
    const step: Step = {
      devices: n, ok: lost === 0 && minConnected === n && rate >= 0.95 * n, why: "",
      cpuMsPerDeviceS: (cpu.user + cpu.system) / 1000 / dt / n, rssMbPerDevice: (maxRss - rss0) / 1e6 / n,
      rate, p50: tracker.percentile(50) ?? NaN, p99: tracker.percentile(99) ?? NaN,
    };
    step.why = `${rate.toFixed(0)} readings/s, lost ${lost}, min connected ${minConnected}, p50 ${step.p50.toFixed(1)} ms, p99 ${step.p99.toFixed(1)} ms, ` +
      `CPU ${(step.cpuMsPerDeviceS * n / 10).toFixed(0)}% of a core, RSS +${((maxRss - rss0) / 1e6).toFixed(0)} MB`;
    if (n === STORM_DEVICES && step.ok) {
      const st = await storm(sim, mosquitto, n);
      stormFigures.push(st);
      log(`storm: ${n} devices connected again ${st.seconds.toFixed(2)} s after the restart began, peak ${st.peak} connects/s`);
    }
    return step;
  } finally {
    await sim.stop();
  }
}

export default async function fleet(): Promise<Figures> {
  const mosquitto = await Mosquitto.start();
  const steps: Step[] = [];
  const stormFigures: { seconds: number; peak: number }[] = [];
  try {
    for (const n of STEPS) {
      log(`${n} devices, ${SECONDS} s ...`);
      const step = await runStep(mosquitto, n, stormFigures);
      steps.push(step);
      log(`${n} devices: ${step.ok ? "sustained" : "NOT sustained"}: ${step.why}`);
      if (!step.ok) break;
      await sleep(2000);
    }
  } finally {
    await mosquitto.close();
  }
  const best = steps.filter((s) => s.ok).pop();
  const tried = steps.map((s) => `${s.devices}${s.ok ? "" : " (failed)"}`).join(", ");
  const figures: Figures = {
    "fleet.devices": { value: best?.devices ?? 0, unit: "devices", note: `src/app, 1 QoS 1 reading/device/s to mosquitto, 0 lost over ${SECONDS} s; tried ${tried}; goal >= 1000` },
  };
  if (best) {
    figures["fleet.cpu_ms_per_device_s"] = { value: best.cpuMsPerDeviceS, unit: "ms CPU per device-second", note: `simulator process only, at ${best.devices} devices` };
    figures["fleet.rss_mb_per_device"] = { value: best.rssMbPerDevice, unit: "MB", note: `peak RSS growth / devices at ${best.devices}` };
    figures["fleet.latency_p99_ms"] = { value: best.p99, unit: "ms", note: `from leaving the device's TCP stack to arrival at a monitoring subscriber, at ${best.devices} devices (p50 ${best.p50.toFixed(1)} ms)` };
  }
  const st = stormFigures[0];
  if (st) {
    figures["fleet.reconnect_storm_s"] = { value: st.seconds, unit: "s", note: `${STORM_DEVICES} devices, from mosquitto restart to all connected` };
    figures["fleet.peak_connects_per_s"] = { value: st.peak, unit: "connects/s", note: "TCP connections opened per second (1 s window) during that storm" };
  }
  return figures;
}
