// Node implementation of Moddable's `time` module on the current device's clock.
import { currentDevice } from "../device.ts";

export default class Time {
  static timezone = 0;
  static dst = 0;
  static get ticks(): number { return currentDevice().clock.now(); }
  static get microseconds(): number { return currentDevice().clock.now() * 1000; }
  static set(_seconds: number): void { /* the host's wall clock is Node's; nothing to set */ }
  static delta(start: number, end?: number): number { return (end ?? currentDevice().clock.now()) - start; }
}
