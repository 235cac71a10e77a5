// A fleet too big for one event loop, spread over worker processes (sim/run/fleet-worker.ts): each runs a slice of
// the devices with startSimulation (users and client ids numbered across the fleet, a monitor for its own users),
// and the parent keeps one summary. Used by bench/fleet.bench.ts; against an external broker only.
import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { SimulationOptions } from "./runner.ts";
import { percentileOf } from "./latency.ts";
import type { Summary } from "./summary.ts";

export interface FleetOptions extends SimulationOptions {
  devices: number;
  broker: string;
  /** Worker processes (default: one per CPU, and at most one per 1,000 devices). */
  workers?: number;
}

/** What one worker measured over a window (see Fleet.measure). */
export interface WindowPart {
  devices: number;
  seconds: number;
  /** Readings that arrived in the window. */
  arrived: number;
  /** Readings sent in the window that never arrived (after the drain). */
  lost: number;
  minConnected: number;
  /** The worker's CPU time over the window. */
  cpuMs: number;
  /** The worker's RSS before its simulation started, and its peak over the window. */
  rss0: number;
  maxRss: number;
  /** Delivery latency samples of the window, ms. */
  samples: number[];
}

/** A window over the whole fleet. */
export interface FleetWindow {
  seconds: number;
  arrived: number;
  /** Readings per second arriving, summed over the workers. */
  rate: number;
  lost: number;
  minConnected: number;
  /** CPU ms per device-second, all workers together. */
  cpuMsPerDeviceS: number;
  /** Peak RSS growth per device (each worker's peak less its RSS before the simulation), and all workers' RSS. */
  rssBytesPerDevice: number;
  rssBytes: number;
  p50: number;
  p99: number;
  workers: number;
}

export type ToWorker =
  | { type: "start"; options: SimulationOptions }
  | { type: "mark" }
  | { type: "measure"; drainMs: number }
  | { type: "stop" };

export type FleetReport =
  | { type: "report"; summary: Summary; connects: number; rss: number }
  | { type: "started" } | { type: "marked" } | { type: "stopped" }
  | { type: "measured"; part: WindowPart }
  | { type: "error"; message: string };

interface Worker { proc: ChildProcess; latest: { summary: Summary; connects: number; rss: number } | undefined }

const WORKER = fileURLToPath(new URL("./fleet-worker.ts", import.meta.url));
const RUN_TS = fileURLToPath(new URL("../../bin/run-ts.js", import.meta.url));

export class Fleet {
  private constructor(private readonly workers: Worker[], readonly devices: number) {}

  /** Starts the workers, each with its slice of `options.devices`; resolves when every simulation runs. */
  static async start(options: FleetOptions): Promise<Fleet> {
    const n = Math.max(1, options.workers ?? Math.min(availableParallelism(), Math.ceil(options.devices / 1000)));
    const { workers: _, ...simOptions } = options;
    const fleet = new Fleet([], options.devices);
    try {
      for (let w = 0, first = 0; w < n; w++) {
        const count = Math.floor(options.devices / n) + (w < options.devices % n ? 1 : 0);
        const proc = fork(RUN_TS, [WORKER], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
        const worker: Worker = { proc, latest: undefined };
        proc.on("message", (m: FleetReport) => { if (m.type === "report") worker.latest = m; });
        fleet.workers.push(worker);
        // Slices of a fleet stagger their start-ups over the same window, as one simulation would.
        const slice: SimulationOptions = { ...simOptions, devices: count, firstDevice: first };
        first += count;
        await fleet.ask(worker, { type: "start", options: slice }, "started", 120_000);
      }
    } catch (e) {
      await fleet.stop();
      throw e;
    }
    return fleet;
  }

  /** One summary for the fleet, from each worker's latest report (at most a second old): counts add up; latency
   *  and first-connect percentiles are the highest of the workers'. */
  summary(): Summary {
    const parts = this.workers.map((w) => w.latest?.summary).filter((s): s is Summary => s !== undefined);
    const sum = (f: (s: Summary) => number | undefined) => parts.reduce((t, s) => t + (f(s) ?? 0), 0);
    const max = (f: (s: Summary) => number | undefined) => {
      const v = parts.map(f).filter((x): x is number => x !== undefined);
      return v.length ? Math.max(...v) : undefined;
    };
    return {
      devices: this.devices, started: sum((s) => s.started), wifiConnected: sum((s) => s.wifiConnected), connected: sum((s) => s.connected),
      published: sum((s) => s.published), delivered: sum((s) => s.delivered), received: sum((s) => s.received),
      reconnects: sum((s) => s.reconnects), errors: sum((s) => s.errors), queued: sum((s) => s.queued),
      bytesIn: sum((s) => s.bytesIn), bytesOut: sum((s) => s.bytesOut), arrived: sum((s) => s.arrived), unconfirmed: sum((s) => s.unconfirmed),
      latencyP50Ms: max((s) => s.latencyP50Ms), latencyP99Ms: max((s) => s.latencyP99Ms), backlog: sum((s) => s.backlog),
      firstConnectP50Ms: max((s) => s.firstConnectP50Ms), firstConnectP99Ms: max((s) => s.firstConnectP99Ms),
      messagesPerSecond: sum((s) => s.messagesPerSecond), elapsedS: max((s) => s.elapsedS) ?? 0,
    };
  }

  /** TCP connections the devices have opened, in all (from the latest reports). */
  connects(): number {
    return this.workers.reduce((t, w) => t + (w.latest?.connects ?? 0), 0);
  }

  /** Starts a measurement window in every worker (each first waits out readings held up before it). */
  async mark(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.ask(w, { type: "mark" }, "marked", 60_000)));
  }

  /** Ends the window; readings sent in it get `drainMs` to arrive before the missing ones count as lost. */
  async measure(drainMs: number): Promise<FleetWindow> {
    const parts = await Promise.all(this.workers.map((w) => this.ask(w, { type: "measure", drainMs }, "measured", drainMs + 60_000)))
      .then((ms) => ms.map((m) => (m as { part: WindowPart }).part));
    const samples = Float64Array.from(parts.flatMap((p) => p.samples));
    const seconds = Math.max(...parts.map((p) => p.seconds));
    return {
      seconds, workers: parts.length,
      arrived: parts.reduce((t, p) => t + p.arrived, 0),
      rate: parts.reduce((t, p) => t + p.arrived / p.seconds, 0),
      lost: parts.reduce((t, p) => t + p.lost, 0),
      minConnected: parts.reduce((t, p) => t + p.minConnected, 0),
      cpuMsPerDeviceS: parts.reduce((t, p) => t + p.cpuMs / p.seconds, 0) / this.devices,
      rssBytesPerDevice: parts.reduce((t, p) => t + (p.maxRss - p.rss0), 0) / this.devices,
      rssBytes: parts.reduce((t, p) => t + p.maxRss, 0),
      p50: percentileOf(samples, 50) ?? NaN,
      p99: percentileOf(samples, 99) ?? NaN,
    };
  }

  /** Stops every worker's simulation and the workers. Safe to call twice. */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map(async (w) => {
      if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
      const exited = new Promise((r) => w.proc.once("exit", r));
      try { await this.ask(w, { type: "stop" }, "stopped", 30_000); } catch { w.proc.kill("SIGKILL"); }
      await exited;
    }));
  }

  /** Sends `message` and waits for the answer of type `answer` (an "error" answer or the worker dying rejects). */
  private ask(w: Worker, message: ToWorker, answer: FleetReport["type"], timeoutMs: number): Promise<FleetReport> {
    return new Promise((resolve, reject) => {
      const done = (e?: Error, m?: FleetReport) => {
        clearTimeout(timer);
        w.proc.off("message", onMessage);
        w.proc.off("exit", onExit);
        if (e) reject(e); else resolve(m!);
      };
      const onMessage = (m: FleetReport) => {
        if (m.type === answer) done(undefined, m);
        else if (m.type === "error") done(new Error(`fleet worker ${w.proc.pid}: ${m.message}`));
      };
      const onExit = (code: number | null) => done(new Error(`fleet worker ${w.proc.pid} exited (${code}) before "${answer}"`));
      const timer = setTimeout(() => done(new Error(`fleet worker ${w.proc.pid}: no "${answer}" within ${timeoutMs} ms`)), timeoutMs);
      w.proc.on("message", onMessage);
      w.proc.once("exit", onExit);
      w.proc.send(message);
    });
  }
}
