// A simulated board: its clock, config, trace output, network conditions, radio and pins.
// Host modules find "their" device through AsyncLocalStorage, so one process can run many devices,
// each executing the same src/ code with its own Wi-Fi, sockets and settings.
import { AsyncLocalStorage } from "node:async_hooks";
import { type Clock, realClock } from "./clock.ts";
import { NetworkConditions } from "./network.ts";
import { Radio } from "./radio.ts";
import { Pins } from "./pins.ts";

export interface DeviceOptions {
  id?: string;
  /** Values seen by `import config from "mc/config"`. */
  config?: Record<string, string | number | boolean>;
  clock?: Clock;
  /** Where `trace()` output goes; default: stdout prefixed with the device id when there are several. */
  trace?: (text: string) => void;
  /** Directory for this device's `preference` store (a JSON file); default: in memory only. */
  preferenceDir?: string;
  /** MAC address; default derived from the id. */
  mac?: string;
}

let counter = 0;

export class Device {
  readonly id: string;
  readonly mac: string;
  config: Record<string, string | number | boolean>;
  readonly clock: Clock;
  readonly network: NetworkConditions;
  readonly radio: Radio;
  readonly pins: Pins;
  readonly preferenceDir: string | undefined;
  traceSink: (text: string) => void;

  constructor(options: DeviceOptions = {}) {
    this.id = options.id ?? `device-${++counter}`;
    this.mac = options.mac ?? macFromId(this.id);
    this.config = { ...(options.config ?? {}) };
    this.clock = options.clock ?? realClock;
    this.preferenceDir = options.preferenceDir;
    this.traceSink = options.trace ?? ((text) => process.stdout.write(text));
    this.network = new NetworkConditions(this);
    this.radio = new Radio(this);
    this.pins = new Pins(this);
  }

  /** Runs `fn` (and every callback it schedules) as code on this device. */
  run<T>(fn: () => T): T {
    return storage.getStore() === this ? fn() : storage.run(this, fn);
  }

  /** `fn.call(self, a, b)` as code on this device, without a closure: host modules deliver hot callbacks this way. */
  call<S, A, B, R>(fn: (this: S, a: A, b: B) => R, self: S, a: A, b: B): R {
    if (storage.getStore() === this) return fn.call(self, a, b);
    return storage.run(this, callThrough, fn as (this: unknown, a: unknown, b: unknown) => unknown, self, a, b) as R;
  }
}

function callThrough(fn: (this: unknown, a: unknown, b: unknown) => unknown, self: unknown, a: unknown, b: unknown): unknown {
  return fn.call(self, a, b);
}

const storage = new AsyncLocalStorage<Device>();
let fallback: Device | undefined;

/** The device whose code is running now; outside any `device.run`, one default device. */
export function currentDevice(): Device {
  return storage.getStore() ?? (fallback ??= new Device({ id: "default" }));
}

/** Replaces the default device used outside `device.run` (tests that drive one device). */
export function setDefaultDevice(device: Device): void {
  fallback = device;
}

function macFromId(id: string): string {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619) >>> 0;
  const bytes = [0x5c, 0xcf, 0x7f, (h >>> 16) & 255, (h >>> 8) & 255, h & 255];
  return bytes.map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}
