// Runs a bundled entry inside the real XS engine (hosts/xs) the way the Moddable runtime runs firmware: built-ins
// frozen, an exception escaping any host callback aborts the machine, host modules with the SDK's argument rules.
// Node serves them: timers on Node timers, sockets on real net.Sockets, Wi-Fi/net/preference/pins on a simulated
// board (sim/board, through the Node stand-ins), `trace` collected; plus heap measurements and an ESP8266 slot budget.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Device } from "../board/device.ts";
import { Airwaves, type AccessPointOptions, type AirwavesOptions } from "../board/airwaves.ts";
import { bundleForXS, type BundleOptions } from "../../hosts/xs/bundle.ts";
import { RemoteModules, encodeArgs } from "../../hosts/xs/remote-modules.ts";
import { Connections } from "../../hosts/xs/connections.ts";
import { Delivery, Request, forEachRecord, frame, readU32, u32, type ConnectRequest } from "../../hosts/xs/protocol.ts";
import { XSError, XSWorker, type Meter } from "../../hosts/xs/worker.ts";
import type { HostConfig } from "../../hosts/xs/modules/host-config.ts";

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

export interface XSHostOptions extends Omit<BundleOptions, "hostConfig"> {
  /** TypeScript entry to bundle; its exported functions can be called with `call`. */
  entry: string;
  /** Whose native modules to model: lwIP on an ESP8266 (default) or Moddable's Linux port. */
  platform?: "esp8266" | "lin";
  /** Freeze the built-ins before loading the bundle, as Moddable does (default true). */
  freeze?: boolean;
  /** A refused connection reports "connected", then write() throws "write failed" (default: on lin). */
  refusedConnects?: boolean;
  /**
   * Most XS heap slots the entry may keep alive (measured after a forced GC, above the count once the bundle
   * has loaded). Checked after every crank; exceeding it fails the host loudly. Default: no budget.
   */
  slotBudget?: number;
  /** Per-crank metering limit (a runaway loop kills the worker instead of hanging the test). */
  meteringLimit?: number;
  /** Receives each `trace` as it happens (also kept in `traces`). */
  onTrace?: (text: string) => void;
  /** Called after each delivery's crank with its op and the worker's meter (for allocation counts). */
  onDelivered?: (op: number, meter: Meter) => void;
  /** Called once if the machine aborts (also in `failure`, and every pending or later call rejects with it). */
  onAbort?: (error: XSAbortError) => void;
  /** Largest chunk delivered per socket callback (default: an lwIP pbuf of 1460 bytes; lin reads 1024). */
  segmentSize?: number;
  /** How long an acknowledgement of written bytes waits to ride on data from the peer (default 2 ms). */
  ackDelayMs?: number;
  /** Access points the board's radio hears; with them an ESP8266 has no route until Wi-Fi gives it an IP. */
  accessPoints?: AccessPointOptions[];
  airwaves?: AirwavesOptions;
  /** The board's MAC (default derived from "xs"); `Net.get("MAC")` is undefined on lin regardless. */
  mac?: string;
  /** Directory of the board's preference store (default: in memory). */
  preferenceDir?: string;
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

/** An exception escaped a host callback: on a device XS aborts (`XS abort: unhandled exception`) and resets. */
export class XSAbortError extends Error {
  /** `kind`: "timer", "socket", "tcp", "wifi", "net"; `xsStack`: the exception and its XS stack. */
  constructor(readonly kind: string, readonly xsStack: string) {
    super(`XS abort: unhandled exception in a ${kind} callback (a device stops here): ${xsStack}`);
    this.name = "XSAbortError";
  }
}

interface PendingCall { resolve: (v: unknown) => void; reject: (e: Error) => void }

const empty: Uint8Array = new Uint8Array(0);

export class XSHost {
  readonly traces: string[] = [];
  /** Exceptions that escaped device callbacks (the first one aborted the machine). */
  readonly faults: string[] = [];
  /** Slots in use after the bundle loaded and a GC: the zero line for budgets and footprints. */
  baselineSlots = 0;
  /** Highest slot count reported after any crank (includes garbage not yet collected). */
  peakSlots = 0;
  /** Cranks run and XS instructions metered (their meters' `compute`) since start: per-message figures divide these. */
  readonly metered = { cranks: 0, compute: 0 };
  /** The simulated board behind `wifi`, `net`, `preference`, `pins/*`: tests drive its radio and pins. */
  readonly device: Device;
  readonly platform: "esp8266" | "lin";
  readonly refusedConnects: boolean;
  readonly segmentSize: number | undefined;
  readonly ackDelayMs: number;
  private readonly remote: RemoteModules;
  private readonly connections: Connections;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly calls = new Map<number, PendingCall>();
  /** Call results reported during a crank, settled only once that crank passed the budget check. */
  private settlements: { id: number; ok: boolean; text: string }[] = [];
  private lastCallId = 0;
  private failed: Error | undefined;
  private closed = false;
  private checking = false;

  private constructor(readonly worker: XSWorker, private readonly options: XSHostOptions, config: HostConfig) {
    this.platform = config.platform;
    this.refusedConnects = config.refusedConnects;
    this.segmentSize = options.segmentSize;
    this.ackDelayMs = options.ackDelayMs ?? 2;
    this.device = new Device({
      id: "xs",
      mac: options.mac,
      preferenceDir: options.preferenceDir,
      trace: (text) => this.trace(text),
    });
    if (options.accessPoints) this.device.radio.air = new Airwaves(options.accessPoints, options.airwaves);
    this.remote = new RemoteModules(this.device, config.platform, (listener, args) => {
      void this.deliver(Delivery.Event, listener, Buffer.from(encodeArgs(args)));
    });
    this.connections = new Connections(this);
    worker.setCommandHandler((request) => this.serve(request));
  }

  /** Bundles `entry`, starts a fresh XS machine and loads the bundle into it. */
  static async start(options: XSHostOptions): Promise<XSHost> {
    const platform = options.platform ?? "esp8266";
    const config: HostConfig = { platform, freeze: options.freeze ?? true, refusedConnects: options.refusedConnects ?? platform === "lin" };
    const bundle = await bundleForXS(options.entry, { ...options, hostConfig: config });
    const worker = await XSWorker.start({ meteringLimit: options.meteringLimit, name: "xsmq-xs" });
    const host = new XSHost(worker, options, config);
    try {
      await host.crank(worker.evaluate(bundle.code), false, false);
      await host.crank(worker.deliver(frame(Delivery.Flush, 0)));
      host.baselineSlots = await host.liveSlots();
    } catch (e) {
      await host.close();
      throw e;
    }
    return host;
  }

  /** All trace output so far, joined. */
  get output(): string { return this.traces.join(""); }

  /** Why the machine stopped (an abort, a budget overrun, a crash), or undefined while it runs. */
  get failure(): Error | undefined { return this.failed; }

  /** Calls a function the entry exports (JSON arguments and result); resolves when its promise settles in XS. */
  call<T = unknown>(name: string, ...args: unknown[]): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    const id = ++this.lastCallId;
    const result = new Promise<T>((resolve, reject) => this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    void this.deliver(Delivery.Call, id, Buffer.from(JSON.stringify({ name, args })));
    return result;
  }

  /**
   * Waits until `predicate` holds, failing at once if the machine aborts (with the abort) and after
   * `timeoutMs` with the last trace lines.
   */
  async until(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.failed) throw this.failed;
      if (predicate()) return;
      if (Date.now() > deadline) throw new Error(`XS host: no "${what}" within ${timeoutMs} ms; last trace:\n${this.output.split("\n").slice(-15).join("\n")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Sends one delivery (any op a bundled module registered) and returns the crank's meter. */
  async deliver(op: number, id: number, payload?: Uint8Array): Promise<Meter | undefined> {
    if (this.closed || this.failed) return undefined;
    try {
      const { meter } = await this.crank(this.worker.deliver(frame(op, id, payload)));
      this.options.onDelivered?.(op, meter);
      return meter;
    } catch {
      return undefined; // recorded by crank(); pending calls were rejected
    }
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
    const { meter } = await this.crank(this.worker.evaluate(code), true, false);
    await this.crank(this.worker.deliver(frame(Delivery.Flush, 0)));
    return meter;
  }

  /** Stops timers, closes sockets and ends the worker. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopDevice();
    this.rejectAll(new XSError("XS host closed"));
    await this.worker.close();
  }

  /** What the socket layer and the board report; kept with the trace. */
  trace(text: string): void {
    this.traces.push(text);
    this.options.onTrace?.(text);
  }

  private stopDevice(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.connections.closeAll();
    this.remote.close();
    this.device.radio.disconnect();
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
    if (!this.failed) this.failed = error;
    this.rejectAll(this.failed);
  }

  /**
   * Runs one crank, serves the records XS handed over with it (`outbox`: a delivery's result, not an eval's
   * value), then checks the slot budget (a GC first, as a board would collect before giving up).
   */
  private async crank(run: Promise<{ reply: Uint8Array; meter: Meter }>, check = true, outbox = true): Promise<{ reply: Uint8Array; meter: Meter }> {
    let result;
    try {
      result = await run;
      this.metered.cranks++;
      this.metered.compute += result.meter.compute;
      if (outbox && result.reply.length > 0) this.serveRecords(result.reply);
    } catch (e) {
      this.failWith(e as Error);
      throw this.failed;
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

  /** Answers one `issueCommand` from XS: the outbox so far. XS is blocked meanwhile, so this never waits. */
  private serve(request: Uint8Array): Uint8Array {
    return this.serveRecords(request);
  }

  /** Serves an outbox's records in order; returns the answer to the last one. */
  private serveRecords(bytes: Uint8Array): Uint8Array {
    let reply: Uint8Array = empty;
    forEachRecord(bytes, (op, id, start, end) => {
      reply = this.serveRecord(op, id, bytes.subarray(start, end));
    });
    return reply;
  }

  private serveRecord(op: number, id: number, payload: Uint8Array): Uint8Array {
    const text = (): string => Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8");
    switch (op) {
      case Request.Trace:
        this.trace(text());
        break;
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
      case Request.Connect:
        if (!this.failed) this.connections.open(id, JSON.parse(text()) as ConnectRequest);
        break;
      case Request.Write:
        this.connections.write(id, payload);
        break;
      case Request.Close:
        this.connections.close(id);
        break;
      case Request.Consumed:
        this.connections.consumed(id);
        break;
      case Request.CallResult:
      case Request.CallError:
        this.settlements.push({ id, ok: op === Request.CallResult, text: text() });
        break;
      case Request.Abort:
        this.abort(text());
        break;
      case Request.Remote:
        return Buffer.from(this.remote.handle(text()));
      default:
        throw new XSError(`unknown request ${op} from XS`);
    }
    return empty;
  }

  /** The machine is dead: say so loudly, fail every call, stop everything a device would stop. */
  private abort(text: string): void {
    const newline = text.indexOf("\n");
    const error = new XSAbortError(text.slice(0, newline), text.slice(newline + 1));
    this.faults.push(text.slice(newline + 1));
    this.trace(`${error.message}\n`);
    const first = !this.failed;
    this.failWith(error);
    this.stopDevice();
    if (first) this.options.onAbort?.(error);
  }
}
