// One worker process of a multi-process fleet (sim/run/fleet.ts): runs a slice of the fleet with startSimulation
// and answers the parent over Node's IPC channel. Started as `node bin/run-ts.js sim/run/fleet-worker.ts`;
// the options come in the first message. Reports every second; measures a window when asked.
import { startSimulation, type Simulation } from "./runner.ts";
import type { FleetReport, ToWorker, WindowPart } from "./fleet.ts";

const send = (message: FleetReport): void => { process.send?.(message); };
let sim: Simulation | undefined;
let rss0 = 0;
let window: { t0: number; cpu0: NodeJS.CpuUsage; arrived0: number; skipped0: number; sample0: number; minConnected: number; maxRss: number; sampler: NodeJS.Timeout } | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function report(): void {
  if (!sim) return;
  let connects = 0;
  for (const d of sim.devices) connects += d.device.network.connects;
  send({ type: "report", summary: sim.summary(), connects, rss: process.memoryUsage().rss });
}

/** Waits out readings held up before the window (a start-up backlog), then starts counting. */
async function mark(): Promise<void> {
  const tracker = sim!.tracker!;
  const settleEnd = performance.now() + 30_000;
  while (tracker.unconfirmedBefore(performance.now() - 2000) > tracker.skipped && performance.now() < settleEnd) await sleep(200);
  const w = {
    t0: performance.now(), cpu0: process.cpuUsage(), arrived0: tracker.arrived, skipped0: tracker.skipped, sample0: tracker.samplesTaken,
    minConnected: sim!.devices.length, maxRss: process.memoryUsage().rss,
    sampler: setInterval(() => {
      w.minConnected = Math.min(w.minConnected, sim!.summary().connected);
      w.maxRss = Math.max(w.maxRss, process.memoryUsage().rss);
    }, 500),
  };
  window = w;
}

/** Ends the window: gives its readings `drainMs` to arrive, then counts the missing ones. */
async function measure(drainMs: number): Promise<WindowPart> {
  const w = window!;
  window = undefined;
  clearInterval(w.sampler);
  const tracker = sim!.tracker!;
  const t1 = performance.now(), cpu = process.cpuUsage(w.cpu0);
  const arrived = tracker.arrived - w.arrived0;
  // Both counts taken at the end, so what was pending before the window does not count; plus what was given up on.
  const missing = () => tracker.unconfirmedBefore(t1) - tracker.unconfirmedBefore(w.t0) + tracker.skipped - w.skipped0;
  const drainEnd = performance.now() + drainMs;
  while (missing() > 0 && performance.now() < drainEnd) await sleep(100);
  return {
    devices: sim!.devices.length, seconds: (t1 - w.t0) / 1000, arrived, lost: missing(), minConnected: w.minConnected,
    cpuMs: (cpu.user + cpu.system) / 1000, rss0, maxRss: w.maxRss, samples: Array.from(tracker.samplesSince(w.sample0)),
  };
}

process.on("message", (m: ToWorker) => {
  void (async () => {
    try {
      if (m.type === "start") {
        rss0 = process.memoryUsage().rss;
        sim = await startSimulation(m.options);
        if (!sim.tracker) throw new Error(`readings cannot be tracked: ${sim.monitorError ?? "no monitor"}`);
        setInterval(report, 1000).unref();
        report();
        send({ type: "started" });
      } else if (m.type === "mark") {
        await mark();
        send({ type: "marked" });
      } else if (m.type === "measure") {
        send({ type: "measured", part: await measure(m.drainMs) });
      } else if (m.type === "stop") {
        await sim?.stop();
        send({ type: "stopped" });
        process.disconnect?.();
        process.exit(0);
      }
    } catch (e) {
      send({ type: "error", message: (e as Error).stack ?? String(e) });
    }
  })();
});
process.on("disconnect", () => process.exit(0)); // the parent is gone
