// Allocation and instruction counts inside the real XS engine, counted as allocation: the rise of the worker's
// live heap count across a window of messages in which no collection runs (a WeakRef sentinel armed before
// the window tells), chunk bytes from the rise of XS's chunk allocator (it bumps a pointer through one block
// until a collection compacts it), instructions from the worker's meter. Each figure is a window of n messages
// minus an empty window (n = 0), which holds the fixed cost of a crank.
// The XS side is sim/xs/entries/meter.ts; its entry registers the actions measured here.
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { XSHost } from "./host.ts";
import { Builtin, METER_OP } from "./entries/meter-ops.ts";

/** xsnapPlatform.c's mxReserveChunkSize: the address range XS reserves for its one growing chunk block. */
const CHUNK_RESERVE = 1024 * 1024 * 1024;

export interface CrankMeter {
  /** Heap slots in use at the end of the crank. */
  heap: number;
  /** Metered instructions of the crank. */
  compute: number;
  /** Offset of XS's chunk allocation pointer after the crank (NaN where it cannot be read). */
  chunkTop: number;
}

export interface WindowResult {
  n: number;
  slots: number;
  compute: number;
  chunkBytes: number;
  /** A collection ran during the window: its slot and chunk counts mean nothing. */
  gc: boolean;
}

export interface PerMessage {
  n: number;
  slots: number;
  compute: number;
  /** Chunk bytes per message (64-bit layout: 16-byte chunk headers); NaN where the allocator cannot be read. */
  chunkBytes: number;
  /** Collections seen in the window and in its empty twin (both must be 0 for the figure to count). */
  gcs: number;
}

export class XSMeter {
  /** Slots the heap was grown to; a window must allocate fewer. */
  heapSlots = 0;
  /** Heap count after the last crank, and right after the last collection. */
  private lastHeap = 0;
  private collectedAt = 0;

  constructor(readonly xs: XSHost) {}

  private get pid(): number {
    const pid = this.xs.worker.pid;
    if (pid === undefined) throw new Error("XSMeter: the worker has no pid");
    return pid;
  }

  private chunkBase: number | undefined;

  /**
   * Where XS's chunk allocator stands: `current` of the txBlock at the start of the chunk reservation, read from the
   * worker's memory (it is our child process). The reservation is the PROT_NONE mapping that continues a
   * read-write one; the block header is its first 32 bytes: nextBlock, current, limit, temporary.
   */
  chunkTop(): number {
    try {
      if (this.chunkBase === undefined) this.chunkBase = findChunkBase(this.pid);
      if (this.chunkBase < 0) return NaN;
      const fd = openSync(`/proc/${this.pid}/mem`, "r");
      try {
        const header = Buffer.alloc(32);
        readSync(fd, header, 0, 32, this.chunkBase);
        if (header.readBigUInt64LE(0) !== 0n) return NaN; // a second block: the bump pointer no longer tells
        return Number(header.readBigUInt64LE(8)) - this.chunkBase;
      } finally {
        closeSync(fd);
      }
    } catch {
      return NaN;
    }
  }

  /** Runs action `code` in a crank of its own; the meter and resident size after it. */
  async crank(code: number, a = 0, b = 0, n = 0): Promise<CrankMeter> {
    const payload = new Uint8Array([code, a, b, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);
    const meter = await this.xs.deliver(METER_OP, 0, payload);
    if (!meter) throw this.xs.failure ?? new Error("XSMeter: the XS host is closed");
    this.lastHeap = meter.currentHeapCount;
    return { heap: meter.currentHeapCount, compute: meter.compute, chunkTop: this.chunkTop() };
  }

  /** Grows the heap to hold `slots` slots and frees them (one forced collection). Call once, before any window. */
  async prepare(slots: number): Promise<void> {
    await this.crank(Builtin.Grow, 0, 0, Math.ceil(slots / 2));
    this.collectedAt = this.lastHeap = await this.xs.liveSlots();
    this.heapSlots = slots;
  }

  /** Fills the free list with garbage until a (non-compacting) collection runs, so the next window has the whole heap. */
  async collect(): Promise<void> {
    const step = 1 << 19; // objects (2 slots each) per crank
    for (let i = 0; i < 4 + (2 * this.heapSlots) / step; i++) {
      const before = (await this.crank(Builtin.Nothing)).heap;
      const after = (await this.crank(Builtin.Churn, 0, 0, step)).heap;
      if (after < before + 2 * step) {
        this.collectedAt = after;
        return;
      }
    }
    throw new Error("XSMeter: no collection ran while churning the heap");
  }

  /** One window: arm the sentinel, run `code` with n in one crank, probe. */
  async window(code: number, a: number, b: number, n: number): Promise<WindowResult> {
    const armed = await this.crank(Builtin.Arm);
    const run = await this.crank(code, a, b, n);
    await this.crank(Builtin.Probe);
    const gc = await this.xs.call<boolean>("probed");
    return { n, slots: run.heap - armed.heap, compute: run.compute, chunkBytes: run.chunkTop - armed.chunkTop, gc };
  }

  /**
   * A window around `run`, which may take many cranks (calls, timers, socket data through the XS host): the heap and
   * chunk rise from the crank before it to one after it, the instructions of every crank in between.
   */
  async around(run: () => Promise<void>): Promise<WindowResult & { cranks: number }> {
    const armed = await this.crank(Builtin.Arm);
    const m0 = { ...this.xs.metered };
    await run();
    const end = await this.crank(Builtin.Nothing);
    const m1 = this.xs.metered;
    await this.crank(Builtin.Probe);
    const gc = await this.xs.call<boolean>("probed");
    return {
      n: 0, gc, slots: end.heap - armed.heap, chunkBytes: end.chunkTop - armed.chunkTop,
      compute: m1.compute - end.compute - m0.compute, cranks: m1.cranks - 1 - m0.cranks,
    };
  }

  /**
   * Per-message figures of action `code`: a window of n minus an empty one. Windows start from a fresh free
   * list; a window with a collection is repeated once from a fresh one, then reported with its GC count.
   */
  async perMessage(code: number, a: number, b: number, n: number): Promise<PerMessage> {
    let gcs = 0;
    for (let attempt = 0; ; attempt++) {
      // A fresh free list when a quarter of the heap is used (or after a window that saw a collection).
      if (attempt > 0 || this.lastHeap - this.collectedAt > this.heapSlots / 4) await this.collect();
      const empty = await this.window(code, a, b, 0);
      const full = await this.window(code, a, b, n);
      const seen = Number(empty.gc) + Number(full.gc);
      gcs += seen;
      if (seen === 0 || attempt === 1) {
        return {
          n, gcs: seen,
          slots: (full.slots - empty.slots) / n,
          compute: (full.compute - empty.compute) / n,
          chunkBytes: (full.chunkBytes - empty.chunkBytes) / n,
        };
      }
    }
  }

  /**
   * Live heap by kind from a snapshot (XS collects first): slots and chunk bytes in this 64-bit worker's layout
   * (32-byte slots; chunks with 16-byte headers), and the key table.
   */
  async snapshot(): Promise<{ slots: number; chunkBytes: number; keys: number }> {
    const dir = mkdtempSync(join(tmpdir(), "xsmq-meter-"));
    try {
      const path = join(dir, "heap.xss");
      await this.xs.worker.snapshot(path);
      const sections = readSections(readFileSync(path));
      return { slots: (sections.HEAP ?? 0) / 32, chunkBytes: sections.BLOC ?? 0, keys: (sections.KEYS ?? 0) / 8 };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Address of XS's chunk block in process `pid`, or -1 if the layout is not the one expected. */
function findChunkBase(pid: number): number {
  const maps = readFileSync(`/proc/${pid}/maps`, "utf8").trim().split("\n").map((line) => {
    const [range, perms] = line.split(/\s+/);
    const [start, end] = range.split("-").map((h) => parseInt(h, 16));
    return { start, end, perms };
  });
  for (let i = 1; i < maps.length; i++) {
    const reserve = maps[i], open = maps[i - 1];
    if (reserve.perms !== "---p" || open.perms !== "rw-p" || open.end !== reserve.start) continue;
    const base = reserve.end - CHUNK_RESERVE;
    if (base >= open.start && base < open.end) return base;
  }
  return -1;
}

/** Sizes of the atoms of an XS snapshot ("XS_M" container of [size u32 BE][tag 4][body]). */
export function readSections(bytes: Uint8Array): Record<string, number> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, number> = {};
  let at = 8; // the container's own size and tag
  while (at + 8 <= bytes.length) {
    const size = view.getUint32(at);
    const tag = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    out[tag] = size - 8;
    if (size < 8) break;
    at += size;
  }
  return out;
}
