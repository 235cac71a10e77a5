// A simulated board: its clock, config, trace output, network conditions, radio and pins. It is the Board that
// the Moddable stand-ins (hosts/node/modules) find while its code runs, so one process can run many devices,
// each executing the same src/ code with its own Wi-Fi, sockets and settings.
import { type Board, type Clock, type ConnectionEvents, callOn, runOn } from "../../hosts/node/board.ts";
import { realClock } from "./clock.ts";
import { NetworkConditions } from "./network.ts";
import { SimulatedConnection } from "./connection.ts";
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

export class Device implements Board {
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
    this.network = new NetworkConditions(this.clock);
    this.radio = new Radio(this, this.network);
    this.pins = new Pins(this);
  }

  openConnection(events: ConnectionEvents): SimulatedConnection {
    return new SimulatedConnection(this.network, events);
  }

  run<T>(fn: () => T): T {
    return runOn(this, fn);
  }

  call<S, A, B, R>(fn: (this: S, a: A, b: B) => R, self: S, a: A, b: B): R {
    return callOn(this, fn, self, a, b);
  }
}

function macFromId(id: string): string {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619) >>> 0;
  const bytes = [0x5c, 0xcf, 0x7f, (h >>> 16) & 255, (h >>> 8) & 255, h & 255];
  return bytes.map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}
