// The producer and consumer loops shared by the e2e and allocation benches: publish as fast as the client
// accepts (each waits on its own backlog), count what arrives, and stop on a count or when arrivals stall.
import { performance } from "node:perf_hooks";
import type { Peer, Qos } from "./peers.ts";

/**
 * Publishes `count` messages, as many per event-loop turn as `peer.canPublish()` allows.
 * `each(sent)` runs after every publish (the allocation bench samples the heap there); `ahead()` false holds
 * the producer back (end-to-end flow control: a broker queue that overflows would drop or stall); `stop()` true ends it.
 */
export function produce(peer: Peer, topic: string, qos: Qos, count: number, each?: (sent: number) => void, ahead?: () => boolean, stop?: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const tick = (): void => {
      if (stop && stop()) { resolve(); return; }
      try {
        while (sent < count && peer.canPublish() && (!ahead || ahead())) {
          peer.publish(topic, qos);
          sent++;
          if (each) each(sent);
        }
      } catch (e) { reject(e); return; }
      if (sent < count) setImmediate(tick);
      else resolve();
    };
    tick();
  });
}

/** Counts arrivals; `until(n)` resolves when n have arrived in total or none came for `stallMs`. */
export class Counter {
  received = 0;
  last = 0;
  private target = Infinity;
  private wake: (() => void) | undefined;
  readonly onMessage = (_seq: number): void => {
    this.received++;
    if (this.received >= this.target) {
      this.last = performance.now();
      const w = this.wake;
      this.wake = undefined;
      this.target = Infinity;
      w?.();
    }
  };

  until(n: number, stallMs = 1500): Promise<void> {
    if (this.received >= n) return Promise.resolve();
    return new Promise((resolve) => {
      let seen = this.received, quietSince = performance.now();
      const poll = setInterval(() => {
        const now = performance.now();
        if (this.received !== seen) { seen = this.received; quietSince = now; return; }
        if (now - quietSince >= stallMs) { this.last = quietSince; finish(); }
      }, 50);
      const finish = (): void => { clearInterval(poll); this.wake = undefined; this.target = Infinity; resolve(); };
      this.target = n;
      this.wake = finish;
    });
  }
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
