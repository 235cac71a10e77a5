// V8 heap allocation counting for the allocation benches: heap bytes used before and after a window of
// messages, in a process whose young generation is big enough that no GC runs inside the window
// (checked with PerformanceObserver 'gc' entries; a window with a GC in it is thrown away).
import { PerformanceObserver, performance } from "node:perf_hooks";
import v8 from "node:v8";

const gc = (globalThis as { gc?: () => void }).gc;

/** Child-process flags: gc() exposed, 64 MB semi-spaces so a window of messages fits without a scavenge. */
export const ALLOC_FLAGS = ["--expose-gc", "--min-semi-space-size=64", "--max-semi-space-size=64"];

export function heapUsed(): number {
  return v8.getHeapStatistics().used_heap_size;
}

/** Records when collections ran, to reject windows that overlap one. */
export class GcWatch {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { this.starts.push(e.startTime); this.ends.push(e.startTime + e.duration); }
  });
  constructor() { this.observer.observe({ entryTypes: ["gc"] }); }
  /** True if a collection overlapped [t0, t1]; call after the event loop had a turn (entries arrive late). */
  collectedBetween(t0: number, t1: number): boolean {
    for (let i = 0; i < this.starts.length; i++) if (this.ends[i] > t0 && this.starts[i] < t1) return true;
    return false;
  }
  stop(): void { this.observer.disconnect(); }
}

/** One measured window: collect, then count heap growth until `end()`. Allocation-free between the two. */
export class Window {
  t0 = 0; t1 = 0; h0 = 0; h1 = 0;
  begin(): void {
    if (!gc) throw new Error("run with --expose-gc");
    gc();
    this.t0 = performance.now();
    this.h0 = heapUsed();
  }
  end(): void {
    this.h1 = heapUsed();
    this.t1 = performance.now();
  }
  get bytes(): number { return this.h1 - this.h0; }
}

/** What a window costs with nothing in it (the stats objects read at its edges). */
export function emptyWindowBytes(): number {
  const w = new Window();
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) { w.begin(); w.end(); samples.push(w.bytes); }
  return median(samples);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Bytes per message from windows of `n` messages each: median of the GC-free windows, less the empty-window cost. */
export function perMessage(windows: Window[], n: number, watch: GcWatch, baseline: number): { value: number; valid: number; samples: number[] } {
  const ok = windows.filter((w) => !watch.collectedBetween(w.t0, w.t1));
  if (ok.length === 0) throw new Error(`every one of ${windows.length} windows had a GC in it; use smaller windows`);
  const samples = ok.map((w) => Math.max(0, w.bytes - baseline) / n);
  return { value: median(samples), valid: ok.length, samples };
}
