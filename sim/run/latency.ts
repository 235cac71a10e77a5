// Delivery latency of feed readings: each reading leaving a device (seen by the publish sniffer) is matched with its
// arrival where it is observed (the local broker storing it, or a monitoring subscriber), by feed key and value.
// Matching is per device and in order; a value not found among the oldest pending ones is a duplicate.
// Readings an app queued before its device first connected are counted apart (they leave in one burst when it
// connects, behind each other): latency percentiles are those of readings sent while connected.

const MAX_PENDING = 512;   // per device: older unmatched readings are counted as lost
const SEARCH = 16;         // how far into the pending list an arrival may match (QoS 1 keeps order; resends may not)
const SAMPLES = 1 << 17;   // latency samples kept (the most recent)

interface Pending { key: string; value: string; at: number; backlog: boolean }

export class DeliveryTracker {
  /** Readings seen leaving devices. */
  sent = 0;
  /** Readings matched on arrival. */
  arrived = 0;
  /** Arrivals that matched nothing pending (QoS 1 duplicates, or readings published before tracking began). */
  unmatched = 0;
  /** Readings given up on: skipped over by a later arrival, or pushed out of a full pending list. */
  skipped = 0;
  private readonly pending = new Map<number, Pending[]>();
  /** Feed keys devices publish to: arrivals on other feeds (the dashboard's onoff, say) are not readings. */
  private readonly keys = new Set<string>();
  /** Readings queued before their device's first connection, seen arriving (not in the latency samples). */
  backlogArrived = 0;
  /** Readings queued before their device's first connection, over all devices. */
  backlog = 0;
  private readonly samples = new Float64Array(SAMPLES);
  private count = 0;
  /** Per device: readings still to come from the queue it had at its first connection. */
  private readonly backlogLeft = new Map<number, number>();
  private readonly connectSamples: number[] = [];

  /**
   * A device's first connection (seen when its first PUBLISH leaves), `afterMs` after its app started, with
   * `queued` readings handed to its client before: the next `queued` readings it sends are that backlog.
   * Calls after the first for a device are ignored.
   */
  firstConnect(device: number, afterMs: number, queued: number): void {
    if (this.backlogLeft.has(device)) return;
    this.backlogLeft.set(device, queued);
    this.backlog += queued;
    this.connectSamples.push(afterMs);
  }

  published(device: number, key: string, value: string, at: number): void {
    let list = this.pending.get(device);
    if (!list) this.pending.set(device, list = []);
    const left = this.backlogLeft.get(device) ?? 0;
    if (left > 0) this.backlogLeft.set(device, left - 1);
    list.push({ key, value, at, backlog: left > 0 });
    this.keys.add(key);
    this.sent++;
    if (list.length > MAX_PENDING) { list.shift(); this.skipped++; }
  }

  /** Returns the latency in ms, or -1 if nothing matched. */
  arrivedAt(device: number, key: string, value: string, at: number): number {
    if (!this.keys.has(key)) return -1;
    const list = this.pending.get(device);
    const n = list ? Math.min(list.length, SEARCH) : 0;
    for (let i = 0; i < n; i++) {
      const p = list![i];
      if (p.key !== key || p.value !== value) continue;
      list!.splice(0, i + 1);
      this.skipped += i;
      this.arrived++;
      const ms = at - p.at;
      if (p.backlog) this.backlogArrived++;
      else this.samples[this.count++ % SAMPLES] = ms;
      return ms;
    }
    this.unmatched++;
    return -1;
  }

  /**
   * An arrival whose sender is not known (a subscriber on the local mosquitto sees topic and value only): it is
   * the reading of the device whose matching pending one left first. Returns the latency in ms, or -1.
   */
  arrivedFromAny(key: string, value: string, at: number): number {
    let device = -1, first = Infinity;
    if (this.keys.has(key)) {
      for (const [d, list] of this.pending) {
        const n = Math.min(list.length, SEARCH);
        for (let i = 0; i < n; i++) {
          const p = list[i];
          if (p.key === key && p.value === value) {
            if (p.at < first) { first = p.at; device = d; }
            break;
          }
        }
      }
    }
    if (device < 0) {
      if (this.keys.has(key)) this.unmatched++;
      return -1;
    }
    return this.arrivedAt(device, key, value, at);
  }

  /** Readings published and not (yet) seen arriving. */
  get inFlight(): number {
    let n = 0;
    for (const list of this.pending.values()) n += list.length;
    return n;
  }

  /** Readings published before `at` (ms, performance.now) that have not arrived, plus those given up on. */
  unconfirmedBefore(at: number): number {
    let n = this.skipped;
    for (const list of this.pending.values()) for (const p of list) if (p.at < at) n++;
    return n;
  }

  /** Latency samples taken so far: give it to percentile() later for the readings that arrived since. */
  get samplesTaken(): number { return this.count; }

  /** Latency percentile (0..100) of readings sent while connected (and arrived after sample `since`), in ms;
   *  undefined before the first arrival. */
  percentile(p: number, since = 0): number | undefined {
    return percentileOf(this.samplesSince(since), p);
  }

  /** The kept latency samples taken after sample `since` (the most recent SAMPLES at most), in ms. */
  samplesSince(since = 0): Float64Array {
    const from = Math.max(since, this.count - SAMPLES);
    const window = new Float64Array(Math.max(0, this.count - from));
    for (let i = from; i < this.count; i++) window[i - from] = this.samples[i % SAMPLES];
    return window;
  }

  /** Percentile of the time from app start to the first connection, over devices, in ms. */
  connectPercentile(p: number): number | undefined {
    return percentileOf(Float64Array.from(this.connectSamples), p);
  }
}

/** The feed key of a plain feed topic `{user}/feeds/{key}` (or `/f/`), with the user; undefined otherwise. */
export function feedOf(topic: string): { user: string; key: string } | undefined {
  const m = /^([^/]+)\/(?:feeds|f)\/([^/]+)$/.exec(topic);
  return m ? { user: m[1], key: m[2] } : undefined;
}

/** Percentile p (0..100) of `samples` (sorted in place); undefined when there are none. */
export function percentileOf(samples: Float64Array, p: number): number | undefined {
  const n = samples.length;
  if (n === 0) return undefined;
  const sorted = samples.sort();
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
}
