// What the Moddable stand-ins (hosts/node/modules) ask of the board their code runs on, and how they find it:
// the board whose code is running, through AsyncLocalStorage, so one process can run many boards. The simulator
// (sim/board) implements these interfaces; nothing here imports it.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Socket as NodeSocket } from "node:net";

/** Milliseconds, monotonic; timed effects of the board run on it (a virtual clock in tests). */
export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`; returns a handle for `cancel`. */
  schedule(fn: () => void, ms: number): unknown;
  cancel(handle: unknown): void;
}

/** An access point as the radio hears it. */
export interface HeardAccessPoint {
  readonly ssid: string;
  readonly bssid: string;
  readonly rssi: number;
  readonly channel: number;
  readonly hidden: boolean;
  /** "" for an open network. */
  readonly password: string;
  readonly gateway: string;
}

export type RadioMessage = "connect" | "gotIP" | "lostIP" | "disconnect";
/** Value of the "disconnect" message: -1 when the password was rejected, else 0 (as on ESP8266/ESP32). */
export type DisconnectReason = -1 | 0;
export type RadioListener = (message: RadioMessage, value?: DisconnectReason) => void;

export interface StationConfig {
  ssid: string;
  password?: string;
  bssid?: string;
}

/** The Wi-Fi radio under `wifi` and `net`. */
export interface BoardRadio {
  /** WiFi.mode bits (WiFiMode). */
  mode: number;
  /** The AP associated with now. */
  readonly ap: HeardAccessPoint | undefined;
  /** The DHCP lease, while connected. */
  readonly ip: string | undefined;
  readonly rssi: number | undefined;
  scanning: boolean;
  /** Soft-AP settings after WiFi.accessPoint. */
  softAP: { ssid: string; channel: number } | undefined;
  /** What the radio can hear; undefined: nothing (every connect fails as "not found"). */
  readonly air: { readonly scanMs: number; visible(includeHidden: boolean, channel?: number): readonly HeardAccessPoint[] } | undefined;
  connect(config: StationConfig): void;
  disconnect(): void;
  addListener(listener: RadioListener): void;
  removeListener(listener: RadioListener): void;
}

/** GPIO and ADC under `pins/digital` and `pins/analog`. */
export interface BoardPins {
  setMode(pin: number, mode: number): void;
  read(pin: number): 0 | 1;
  write(pin: number, value: number): void;
  readAnalog(pin: number): number;
}

/** What a connection reports to its front-end (Moddable Socket, ECMA-419 TCP); a separate hooks object, so
 *  these never show on the front-end's public API. */
export interface ConnectionEvents {
  /** True until the app closes it or it fails; nothing arrives at a closed front-end. */
  isOpen(): boolean;
  connected(): void;
  /** A chunk arrived; it is already counted in `rxBytes`. */
  received(chunk: Buffer): void;
  /** The peer closed its side (FIN). */
  ended(): void;
  /** The connection failed (error, reset, or no link while connecting). */
  failed(): void;
  /** `bytes` written earlier were acknowledged; the front-end decides whether they still count. */
  acknowledged(bytes: number): void;
}

/** One TCP connection of the board's network stack, as `socket` and `embedded:io/socket/tcp` drive it. */
export interface BoardConnection {
  /** Received bytes not yet read by the app (the receive window). */
  rxBytes: number;
  /** Written and not yet acknowledged (the send window). */
  outstanding: number;
  /** Free space in the send window (negative if the window shrank under what is outstanding). */
  readonly free: number;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  connect(host: string, port: number, noDelay: boolean, keepAliveMs: number | undefined): void;
  /** Takes over a connection a listener accepted. */
  accept(node: NodeSocket, noDelay: boolean, keepAliveMs: number | undefined): void;
  /** The app read `n` buffered bytes; `chunkEnd`: the chunk they came from is used up. */
  consumed(n: number, chunkEnd: boolean): void;
  /** A byte view of a buffer argument. */
  bytesOf(data: ArrayBufferLike | ArrayBufferView): Uint8Array;
  put(bytes: Uint8Array): void;
  putByte(value: number): void;
  putString(text: string, byteLength: number): void;
  /** Sends what was put this turn. */
  flush(): void;
  /** The app closed: with `flushing`, written data still goes out, then FIN. */
  close(flushing: boolean): void;
  /** Drops the connection and everything in flight. */
  release(): void;
}

/** The board's network stack. */
export interface BoardNetwork {
  /** Largest chunk per readable message (a TCP segment on a board). */
  readonly maxReadChunk: number;
  /** False while the radio link is down: new connections fail. */
  readonly linkUp: boolean;
  /** How long a connection attempt takes to fail while the link is down. */
  readonly linkDownFailMs: number;
  /** Readable callbacks that returned with bytes unread. */
  unreadStalls: number;
  countConnect(): void;
}

/** One board: what every stand-in module needs of it. */
export interface Board {
  readonly id: string;
  readonly mac: string;
  /** Values seen by `import config from "mc/config"`. */
  readonly config: Record<string, string | number | boolean>;
  readonly clock: Clock;
  /** Directory of the `preference` store; undefined: in memory. */
  readonly preferenceDir: string | undefined;
  readonly network: BoardNetwork;
  readonly radio: BoardRadio;
  readonly pins: BoardPins;
  /** Where `trace()` output goes. */
  traceSink(text: string): void;
  /** A new TCP connection of the board's network stack, reporting to `events`. */
  openConnection(events: ConnectionEvents): BoardConnection;
  /** Runs `fn` (and every callback it schedules) as code on this board: `runOn(this, fn)`. */
  run<T>(fn: () => T): T;
  /** `fn.call(self, a, b)` as code on this board, without a closure: `callOn(this, ...)`. */
  call<S, A, B, R>(fn: (this: S, a: A, b: B) => R, self: S, a: A, b: B): R;
}

const storage = new AsyncLocalStorage<Board>();
let fallback: Board | undefined;

/** Runs `fn` (and every callback it schedules) as code on `board`. */
export function runOn<T>(board: Board, fn: () => T): T {
  return storage.getStore() === board ? fn() : storage.run(board, fn);
}

/** `fn.call(self, a, b)` as code on `board`: host modules deliver hot callbacks this way, without a closure. */
export function callOn<S, A, B, R>(board: Board, fn: (this: S, a: A, b: B) => R, self: S, a: A, b: B): R {
  if (storage.getStore() === board) return fn.call(self, a, b);
  return storage.run(board, callThrough, fn as (this: unknown, a: unknown, b: unknown) => unknown, self, a, b) as R;
}

function callThrough(fn: (this: unknown, a: unknown, b: unknown) => unknown, self: unknown, a: unknown, b: unknown): unknown {
  return fn.call(self, a, b);
}

/** The board whose code is running now; outside any `run`, the default board. */
export function currentBoard(): Board {
  const board = storage.getStore() ?? fallback;
  if (board === undefined) {
    throw new Error("no board: run device code with board.run(), or set a default board with setDefaultBoard() (sim/board/device.ts makes boards)");
  }
  return board;
}

/** The board used outside any `run` (tests that drive one board; sim/board/default.ts sets one for vitest). */
export function setDefaultBoard(board: Board | undefined): void {
  fallback = board;
}

/** The board running now, if any (trace output outside every board goes to stdout). */
export function runningBoard(): Board | undefined {
  return storage.getStore() ?? fallback;
}
