// Shared set-up for the Wi-Fi tests: a device on a VirtualClock hearing a set of virtual access points,
// with its trace output captured.
import { Device, type DeviceOptions } from "../../sim/board/device.ts";
import { VirtualClock } from "../../sim/board/clock.ts";
import { Airwaves, type AccessPointOptions, type AirwavesOptions } from "../../sim/board/airwaves.ts";

export interface Sim {
  device: Device;
  clock: VirtualClock;
  air: Airwaves;
  /** Everything the device traced. */
  traced: string[];
  /** Runs `fn` as device code. */
  run<T>(fn: () => T): T;
  /** Advances simulated time. */
  advance(ms: number): void;
}

export function simulate(accessPoints: AccessPointOptions[], options: Omit<DeviceOptions, "clock" | "trace"> = {}, air: AirwavesOptions = {}, clock = new VirtualClock()): Sim {
  const traced: string[] = [];
  const device = new Device({ ...options, clock, trace: (text) => traced.push(text) });
  const airwaves = new Airwaves(accessPoints, { clock, ...air });
  device.radio.air = airwaves;
  return {
    device,
    clock,
    air: airwaves,
    traced,
    run: (fn) => device.run(fn),
    advance: (ms) => clock.advance(ms),
  };
}
