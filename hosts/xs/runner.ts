// Runs a bundled entry inside the real XS engine and serves its host modules from Node: timers on Node
// timers, sockets on real net.Sockets, `trace` collected; plus heap measurements and an ESP8266 slot budget.
import { connect, type Socket as NetSocket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleForXS, type BundleOptions } from "./bundle.ts";
import { Delivery, Request, frame, headerSize, idOf, opOf, readU32, u32 } from "./protocol.ts";
import { XSError, XSWorker, type Meter } from "./worker.ts";

/** ESP8266 defaults from Moddable's build/devices/esp/manifest.json: one static 32 KB block for chunks and slots. */
export const esp8266 = {
  staticBytes: 32768,
  /** sizeof(txSlot) on a 32-bit MCU (the 64-bit worker's slots are twice as big; counts are the same). */
  slotBytes: 16,
  initialHeapSlots: 512,
  initialChunkBytes: 1536,
  stackSlots: 256,
  /** Slots an application may keep alive: half the heap (16 KB), the rest left to chunks and the runtime. */
  appSlotBudget: 1024,
} as const;

export interface XSHostOptions extends BundleOptions {
  /** TypeScript entry to bundle; its exported functions can be called with `call`. */
  entry: string;
  /**
   * Most XS heap slots the entry may keep alive (measured after a forced GC, above the count once the bundle
   * has loaded). Checked after every crank; exceeding it fails the host loudly. Default: no budget.
   */
  slotBudget?: number;
  /** Per-crank metering limit (a runaway loop kills the worker instead of hanging the test). */
  meteringLimit?: number;
  /** Receives each `trace` as it happens (also kept in `traces`). */
  onTrace?: (text: string) => void;
  /** Largest chunk delivered per socket callback (an ESP8266 pbuf holds one 1460-byte segment). */
  segmentSize?: number;
}

export class XSBudgetError extends Error {
  constructor(readonly liveSlots: number, readonly budget: number) {
    super(
      `XS heap over budget: the entry keeps ${liveSlots} slots alive (${liveSlots * esp8266.slotBytes} bytes at ` +
        `${esp8266.slotBytes} B/slot on an ESP8266) after a forced GC; the budget is ${budget} slots ` +
        `(${budget * esp8266.slotBytes} bytes of the ESP8266's ${esp8266.staticBytes}-byte heap)`,
    );
    this.name = "XSBudgetError";
  }
}

interface PendingCall { resolve: (v: unknown) => void; reject: (e: Error) => void }

export class XSHost {
  readonly traces: string[] = [];
  /** Exceptions that escaped device callbacks (Moddable would report them to xsbug and carry on). */
  readonly faults: string[] = [];
  /** Slots in use after the bundle loaded and a GC: the zero line for budgets and footprints. */
  baselineSlots = 0;
  /** Highest slot count reported after any crank (includes garbage not yet collected). */
  peakSlots = 0;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly sockets = new Map<number, NetSocket>();
  private readonly calls = new Map<number, PendingCall>();
  /** Call results reported during a crank, settled only once that crank passed the budget check. */
  private settlements: { id: number; ok: boolean; text: string }[] = [];
  private lastCallId = 0;
  private failure: Error | undefined;
  private closed = false;
  private checking = false;

  private constructor(readonly worker: XSWorker, private readonly options: XSHostOptions) {
    worker.setCommandHandler((request) => this.serve(request));
  }

  /** Bundles `entry`, starts a fresh XS machine and loads the bundle into it. */
  static async start(options: XSHostOptions): Promise<XSHost> {
    const bundle = await bundleForXS(options.entry, options);
    const worker = await XSWorker.start({ meteringLimit: options.meteringLimit, name: "xsmq-xs" });
    const host = new XSHost(worker, options);
    try {
      await host.crank(worker.evaluate(bundle.code));
      host.baselineSlots = await host.liveSlots();
    } catch (e) {
      await host.close();
      throw e;
    }
    return host;
  }

  /** All trace output so far, joined. */
  get output(): string { return this.traces.join(""); }

  /** Calls a function the entry exports (JSON arguments and result); resolves when its promise settles in XS. */
  call<T = unknown>(name: string, ...args: unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.lastCallId;
    const result = new Promise<T>((resolve, reject) => this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    void this.deliver(Delivery.Call, id, Buffer.from(JSON.stringify({ name, args })));
    return result;
  }

  /** Forces a full GC in XS and returns the heap slots still in use. */
  async liveSlots(): Promise<number> {
    const { meter } = await this.crank(this.worker.deliver(frame(Delivery.Collect, 0)), false);
    return meter.currentHeapCount;
  }

  /**
   * Live heap in bytes (slots and chunks, 64-bit layout), from the size of a machine snapshot, which XS writes
   * after a GC. Unlike `liveSlots` it also sees strings, array storage and buffers (chunks).
   */
  async liveBytes(): Promise<number> {
    const dir = mkdtempSync(join(tmpdir(), "xsmq-snap-"));
    try {
      return await this.worker.snapshot(join(dir, "heap.xss"));
    } catch (e) {
      this.failWith(e as Error);
      throw e;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Evaluates a script in XS's global scope (e.g. to probe a built-in). Throws what XS throws. */
  async evaluate(code: string): Promise<Meter> {
    return (await this.crank(this.worker.evaluate(code))).meter;
  }

  /** Stops timers, closes sockets and ends the worker. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets.values()) s.destroy();
    this.sockets.clear();
    this.rejectAll(new XSError("XS host closed"));
    await this.worker.close();
  }

  private rejectAll(error: Error): void {
    for (const c of this.calls.values()) c.reject(error);
    this.calls.clear();
    this.settlements = [];
  }

  private settleCalls(): void {
    const done = this.settlements;
    this.settlements = [];
    for (const { id, ok, text } of done) {
      const call = this.calls.get(id);
      this.calls.delete(id);
      if (ok) call?.resolve(JSON.parse(text));
      else call?.reject(new XSError(`XS call failed: ${text}`));
    }
  }

  private failWith(error: Error): void {
    if (!this.failure) this.failure = error;
    this.rejectAll(error);
  }

  /** Runs one crank, then checks the slot budget (a GC first, as a board would collect before giving up). */
  private async crank(run: Promise<{ reply: Uint8Array; meter: Meter }>, check = true): Promise<{ reply: Uint8Array; meter: Meter }> {
    let result;
    try {
      result = await run;
    } catch (e) {
      this.failWith(e as Error);
      throw e;
    }
    const slots = result.meter.currentHeapCount;
    if (slots > this.peakSlots) this.peakSlots = slots;
    const budget = this.options.slotBudget;
    if (check && budget !== undefined && this.baselineSlots > 0 && !this.checking && slots - this.baselineSlots > budget) {
      this.checking = true;
      try {
        const live = (await this.liveSlots()) - this.baselineSlots;
        if (live > budget) {
          const error = new XSBudgetError(live, budget);
          this.failWith(error);
          throw error;
        }
      } finally {
        this.checking = false;
      }
    }
    if (!this.checking) this.settleCalls();
    return result;
  }

  private async deliver(op: number, id: number, payload?: Uint8Array): Promise<void> {
    if (this.closed || this.failure) return;
    try {
      await this.crank(this.worker.deliver(frame(op, id, payload)));
    } catch {
      /* recorded by crank(); pending calls were rejected */
    }
  }

  /** Answers one `issueCommand` from XS. XS is blocked meanwhile, so this never waits for a crank. */
  private serve(request: Uint8Array): Uint8Array {
    const op = opOf(request);
    const id = idOf(request);
    const payload = request.subarray(headerSize);
    const text = (): string => Buffer.from(payload).toString("utf8");
    switch (op) {
      case Request.Trace: {
        const t = text();
        this.traces.push(t);
        this.options.onTrace?.(t);
        break;
      }
      case Request.TimerSet: {
        const delay = readU32(payload, 0);
        const generation = readU32(payload, 4);
        clearTimeout(this.timers.get(id));
        this.timers.set(id, setTimeout(() => {
          this.timers.delete(id);
          void this.deliver(Delivery.TimerFire, id, u32(generation));
        }, delay));
        break;
      }
      case Request.TimerClear:
        clearTimeout(this.timers.get(id));
        this.timers.delete(id);
        break;
      case Request.SocketConnect:
        return this.openSocket(id, JSON.parse(text()) as { host?: string; address?: string; port?: number });
      case Request.SocketWrite: {
        const socket = this.sockets.get(id);
        const bytes = Buffer.from(payload);
        if (socket && !socket.destroyed) socket.write(bytes, (err) => { if (!err) void this.deliver(Delivery.SocketSent, id, u32(bytes.length)); });
        break;
      }
      case Request.SocketClose:
        this.sockets.get(id)?.destroy();
        this.sockets.delete(id);
        break;
      case Request.CallResult:
      case Request.CallError:
        this.settlements.push({ id, ok: op === Request.CallResult, text: text() });
        break;
      case Request.Fault:
        this.faults.push(text());
        this.traces.push(`uncaught exception in a callback: ${text()}\n`);
        break;
      default:
        throw new XSError(`unknown request ${op} from XS`);
    }
    return new Uint8Array(0);
  }

  private openSocket(id: number, options: { host?: string; address?: string; port?: number }): Uint8Array {
    const host = options.address ?? options.host ?? "127.0.0.1";
    const socket = connect({ host, port: options.port ?? 0 });
    socket.setNoDelay(true);
    this.sockets.set(id, socket);
    const segment = this.options.segmentSize ?? 1460;
    let gone = false;
    const end = (op: number): void => {
      if (gone) return;
      gone = true;
      this.sockets.delete(id);
      void this.deliver(op, id);
    };
    socket.on("connect", () => void this.deliver(Delivery.SocketConnected, id));
    socket.on("data", (data: Buffer) => {
      for (let at = 0; at < data.length; at += segment) void this.deliver(Delivery.SocketData, id, data.subarray(at, at + segment));
    });
    socket.on("error", () => end(Delivery.SocketError));
    socket.on("close", () => end(Delivery.SocketDisconnected));
    return /^\d+\.\d+\.\d+\.\d+$/.test(host) ? Buffer.from(host) : new Uint8Array(0);
  }
}
