// Time sources for the simulator: the real monotonic clock, or a virtual one that tests advance by hand
// (so "30 seconds without an access point" takes microseconds).
import type { Clock } from "../../hosts/node/board.ts";

/** Node turns a setTimeout delay above 2^31-1 ms into 1 ms. */
const NODE_MAX_DELAY_MS = 0x7fffffff;

// process.hrtime() measured at ~4 B/call in Node 20 against ~16 for performance.now() (a fresh HeapNumber each).
const [originS, originNs] = process.hrtime();

export const realClock: Clock = {
  // Whole seconds times 1000 is an integer, so flooring only the nanosecond part is exact.
  now: () => {
    const t = process.hrtime();
    return (t[0] - originS) * 1000 + Math.floor((t[1] - originNs) / 1e6);
  },
  // A repeat of NODE_MAX_DELAY_MS after a slightly early fire would go past it.
  schedule: (fn, ms) => setTimeout(fn, Math.min(NODE_MAX_DELAY_MS, Math.max(0, ms))),
  cancel: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Pending { at: number; seq: number; fn: () => void; cancelled: boolean }

/** A clock that only moves when `advance` is called; due callbacks run in time order. */
export class VirtualClock implements Clock {
  private time = 0;
  private seq = 0;
  private pending: Pending[] = [];

  now(): number { return this.time; }

  schedule(fn: () => void, ms: number): unknown {
    const entry: Pending = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.pending.push(entry);
    return entry;
  }

  cancel(handle: unknown): void {
    if (handle) (handle as Pending).cancelled = true;
  }

  /** Moves time forward by `ms`, running every callback that falls due, in order (including ones they schedule). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.pending = this.pending.filter((p) => !p.cancelled);
      let next: Pending | undefined;
      for (const p of this.pending) if (p.at <= end && (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p;
      if (!next) break;
      this.pending.splice(this.pending.indexOf(next), 1);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = end;
  }

  /** Advances in `step` increments, yielding to Node's event loop in between so real I/O can progress. */
  async run(ms: number, step = 10): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      this.advance(Math.min(step, ms - t));
      await new Promise((r) => setImmediate(r));
    }
  }
}
