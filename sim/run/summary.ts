// What a simulation reports, for the view, the log and `--json`: the Summary, its sliding-window rate meter,
// a connect progress bar and the one-line fleet summary (messages/s, connected count, delivery latency p50/p99).

export interface Summary {
  devices: number;
  started: number;
  wifiConnected: number;
  connected: number;
  /** Readings the app handed to its client. */
  published: number;
  /** QoS 1 readings acknowledged by the broker. */
  delivered: number;
  /** Messages the apps received on their subscriptions. */
  received: number;
  reconnects: number;
  errors: number;
  queued: number;
  bytesIn: number;
  bytesOut: number;
  /** Readings seen arriving at the broker (local) or at the monitoring subscriber (external); undefined: not tracked. */
  arrived: number | undefined;
  /** Readings published but not seen arriving yet (in flight, or lost). */
  unconfirmed: number | undefined;
  /** Delivery latency of readings sent while connected (not those queued before the first connection). */
  latencyP50Ms: number | undefined;
  latencyP99Ms: number | undefined;
  /** Readings the apps queued before their device's first connection (sent in a burst when it connected). */
  backlog: number | undefined;
  /** Time from app start to the device's first connection, over devices. */
  firstConnectP50Ms: number | undefined;
  firstConnectP99Ms: number | undefined;
  /** Readings arriving per second over the last few seconds (published per second when not tracked). */
  messagesPerSecond: number;
  elapsedS: number;
}

/** Rate of a growing counter over the last `windowMs` (sampled whenever asked). */
export class RateMeter {
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  constructor(private readonly windowMs = 5000) {}

  /** Records `value` at `now` (ms) and returns the rate per second over the window. */
  sample(now: number, value: number): number {
    const t = this.times, v = this.values;
    if (t.length === 0 || now - t[t.length - 1] >= 100) { t.push(now); v.push(value); }
    while (t.length > 2 && now - t[1] >= this.windowMs) { t.shift(); v.shift(); }
    const dt = now - t[0];
    return dt > 0 ? ((value - v[0]) * 1000) / dt : 0;
  }
}

/** `[#####.....] 412/1000 connected` in `width` columns for the bar. */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return "-";
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** One line for a fleet: who is connected, throughput, latency, losses so far. */
export function fleetLine(s: Summary): string {
  const latency = s.arrived === undefined ? "latency n/a (shared user)" : `latency p50 ${formatMs(s.latencyP50Ms)} p99 ${formatMs(s.latencyP99Ms)}`;
  const backlog = s.backlog ? `, ${s.backlog} queued before connecting (first connect p50 ${formatMs(s.firstConnectP50Ms)} p99 ${formatMs(s.firstConnectP99Ms)})` : "";
  return `${s.connected}/${s.devices} connected, ${s.messagesPerSecond.toFixed(1)} msg/s, ${latency}, published ${s.published}` +
    (s.arrived === undefined ? "" : `, arrived ${s.arrived}`) + `${backlog}, reconnects ${s.reconnects}, errors ${s.errors}`;
}
