// Drives @agoric/xsnap's `xsnap-worker` (Moddable's XS engine) directly over its netstring protocol:
// host -> worker on fd 3, worker -> host on fd 4. No SES, no wrapper: just bytes, one crank at a time.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Readable, Writable } from "node:stream";

/** What the worker reports after each crank (its "meter"). */
export interface Meter {
  /** XS heap slots in use right now (live plus not-yet-collected garbage; exact right after `gc()`). */
  currentHeapCount: number;
  /** Metering index: roughly the number of XS byte codes run in the crank. */
  compute: number;
  /** Bytes the worker has malloc'd for chunk and slot blocks (only grows). */
  allocate: number;
}

export interface CrankResult { reply: Uint8Array; meter: Meter }

/** Answers `issueCommand(buffer)` calls made inside XS; the returned bytes become its result. */
export type CommandHandler = (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export interface WorkerOptions {
  /** Called for every `issueCommand` from XS. Default: echo. */
  onCommand?: CommandHandler;
  /** Lines the worker prints (XS `print`) and its stderr; default: kept in `output`. */
  onOutput?: (text: string, stream: "stdout" | "stderr") => void;
  /** Metering limit per crank (xsnap `-l`): a runaway crank kills the worker with "too much computation". */
  meteringLimit?: number;
  /** Name shown in `ps` and error messages. */
  name?: string;
}

/** Exit codes of xsnap-worker (xsnap-worker.c `ExitCode`). */
const exitReasons: Record<number, string> = {
  1: "bad usage",
  2: "I/O error",
  11: "XS ran out of memory",
  12: "XS stack overflow",
  15: "unhandled exception",
  16: "XS ran out of keys",
  17: "too much computation (metering limit)",
};

const OK = 0x2e; // '.'
const ERROR = 0x21; // '!'
const QUERY = 0x3f; // '?'
const METER_SEPARATOR = 1;

export class XSWorkerMissingError extends Error {
  constructor(path: string, detail: string) {
    super(
      `XS engine not available: ${detail}\n  expected ${path}\n` +
        "  @agoric/xsnap builds it at install time with the system C compiler; package.json must approve it under " +
        '"allowScripts" ("@agoric/xsnap": true).\n' +
        "  Fix: `npm rebuild @agoric/xsnap` (needs gcc >= 10 and make: `apt-get install build-essential`).",
    );
    this.name = "XSWorkerMissingError";
  }
}

export class XSError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XSError";
  }
}

/** Path of the release xsnap-worker binary inside node_modules (it may not exist: see `checkWorker`). */
export function workerPath(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = dirname(require.resolve("@agoric/xsnap/package.json"));
  } catch {
    throw new XSWorkerMissingError("node_modules/@agoric/xsnap", "the npm package @agoric/xsnap is not installed (run `npm ci`)");
  }
  return join(pkg, "xsnap-native/xsnap/build/bin/lin/release/xsnap-worker");
}

/** Throws an XSWorkerMissingError that says what to do when the engine binary is absent. */
export function checkWorker(path = workerPath()): string {
  if (process.platform !== "linux") throw new XSWorkerMissingError(path, `xsnap-worker is built here for Linux only, not ${process.platform}`);
  if (!existsSync(path)) throw new XSWorkerMissingError(path, "the xsnap-worker binary was not built (its install script did not run or failed)");
  return path;
}

/** Incremental netstring ("<len>:<bytes>,") decoder. */
class NetstringReader {
  private buffer = new Uint8Array(0);
  constructor(private readonly onMessage: (message: Uint8Array) => void) {}

  push(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    this.buffer = joined;
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(new TextDecoder().decode(this.buffer.subarray(0, colon)));
      if (!Number.isInteger(length)) throw new XSError("xsnap protocol error: bad netstring length");
      const end = colon + 1 + length;
      if (this.buffer.length < end + 1) return;
      if (this.buffer[end] !== 0x2c) throw new XSError("xsnap protocol error: netstring without trailing comma");
      const message = this.buffer.slice(colon + 1, end);
      this.buffer = this.buffer.subarray(end + 1);
      this.onMessage(message);
    }
  }
}

function netstring(prefix: string, body: Uint8Array | string): Buffer {
  const payload = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const head = Buffer.from(prefix, "utf8");
  return Buffer.concat([Buffer.from(`${head.length + payload.length}:`), head, payload, Buffer.from(",")]);
}

interface Pending { resolve: (r: CrankResult) => void; reject: (e: Error) => void }

/**
 * One XS machine in a child process. Cranks (`evaluate`, `deliver`) run one at a time, in order;
 * while a crank runs, XS may call `issueCommand`, which the host answers through `onCommand`.
 */
export class XSWorker {
  readonly output: string[] = [];
  private readonly child: ChildProcess;
  private readonly toWorker: Writable;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private exitError: Error | undefined;
  private stderr = "";
  private readonly exited: Promise<void>;
  private onCommand: CommandHandler;

  private constructor(bin: string, options: WorkerOptions) {
    const name = options.name ?? "xsmq-xs";
    const args = [name];
    if (options.meteringLimit) args.push("-l", String(options.meteringLimit));
    this.onCommand = options.onCommand ?? ((r) => r);
    this.child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
    const stdio = this.child.stdio as unknown as [null, Readable, Readable, Writable, Readable];
    this.toWorker = stdio[3];
    this.toWorker.on("error", () => { /* reported through exit */ });
    const onOutput = options.onOutput ?? ((text) => { this.output.push(text); });
    stdio[1].setEncoding("utf8").on("data", (t: string) => onOutput(t, "stdout"));
    stdio[2].setEncoding("utf8").on("data", (t: string) => { this.stderr += t; onOutput(t, "stderr"); });
    const reader = new NetstringReader((m) => this.onMessage(m));
    stdio[4].on("data", (chunk: Buffer) => {
      try { reader.push(chunk); } catch (e) { this.fail(e as Error); }
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        if (code !== 0 || this.pending) {
          const why = signal ? `killed by ${signal}` : `exit code ${code}: ${exitReasons[code ?? -1] ?? "unknown error"}`;
          const detail = this.stderr.trim() ? `\n${this.stderr.trim()}` : "";
          this.exitError = new XSError(`xsnap-worker ${why}${detail}`);
        }
        if (this.pending) this.fail(this.exitError ?? new XSError("xsnap-worker exited"));
        resolve();
      });
    });
  }

  /** Starts a fresh XS machine. Throws XSWorkerMissingError with the fix when the engine is not built. */
  static async start(options: WorkerOptions = {}): Promise<XSWorker> {
    const worker = new XSWorker(checkWorker(), options);
    await new Promise<void>((resolve, reject) => {
      worker.child.once("spawn", resolve);
      worker.child.once("error", reject);
    });
    return worker;
  }

  get pid(): number | undefined { return this.child.pid; }

  /** Replaces the issueCommand handler (e.g. once the host that owns this worker is ready). */
  setCommandHandler(handler: CommandHandler): void { this.onCommand = handler; }

  /** Evaluates a script in XS's global scope. The reply holds the result's bytes if it is an ArrayBuffer. */
  evaluate(code: string): Promise<CrankResult> {
    return this.crank(netstring("e", code));
  }

  /** Calls XS's global `handleCommand(buffer)` with `bytes` (a crank initiated by the host). */
  deliver(bytes: Uint8Array): Promise<CrankResult> {
    return this.crank(netstring("?", bytes));
  }

  /**
   * Writes a snapshot of the whole machine to `path` and returns its size in bytes. XS collects garbage
   * first, so the size is the live heap (chunks and slots, in this 64-bit worker's layout) plus fixed parts.
   */
  async snapshot(path: string): Promise<number> {
    const { reply } = await this.crank(netstring("w", path));
    return Number(Buffer.from(reply).toString("utf8"));
  }

  /** Ends the worker: asks it to quit, kills it if it does not within `timeoutMs`. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try { this.toWorker.end(netstring("q", "")); } catch { /* already gone */ }
      const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
  }

  /** Resolves when the worker process has exited. */
  get done(): Promise<void> { return this.exited; }

  private crank(message: Buffer): Promise<CrankResult> {
    const run = this.queue.then(
      () =>
        new Promise<CrankResult>((resolve, reject) => {
          if (this.exitError || this.child.exitCode !== null) {
            reject(this.exitError ?? new XSError("xsnap-worker has exited"));
            return;
          }
          this.pending = { resolve, reject };
          this.toWorker.write(message);
        }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  private fail(error: Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(error);
  }

  private onMessage(message: Uint8Array): void {
    const kind = message[0];
    if (kind === QUERY) {
      void this.answer(message.subarray(1));
      return;
    }
    const p = this.pending;
    this.pending = undefined;
    if (!p) return this.fail(new XSError(`xsnap protocol error: unexpected message ${String.fromCharCode(kind)}`));
    if (kind === OK) {
      const sep = message.indexOf(METER_SEPARATOR, 1);
      const meter = sep >= 0 ? (JSON.parse(Buffer.from(message.subarray(1, sep)).toString("utf8")) as Meter) : { currentHeapCount: NaN, compute: NaN, allocate: NaN };
      p.resolve({ reply: message.slice(sep >= 0 ? sep + 1 : 1), meter });
    } else if (kind === ERROR) {
      p.reject(new XSError(`uncaught exception in XS: ${Buffer.from(message.subarray(1)).toString("utf8")}`));
    } else {
      p.reject(new XSError(`xsnap protocol error: unknown message kind ${kind}`));
    }
  }

  private async answer(request: Uint8Array): Promise<void> {
    let reply: Uint8Array;
    try {
      reply = await this.onCommand(request);
    } catch (e) {
      // XS is blocked waiting for this answer: a host-side failure ends the machine loudly.
      this.fail(new XSError(`host command handler failed: ${(e as Error).stack ?? e}`));
      this.child.kill("SIGKILL");
      return;
    }
    this.toWorker.write(netstring("/", reply));
  }
}
