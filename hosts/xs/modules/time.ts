// Moddable's `time` module INSIDE XS: a millisecond tick counter from the worker's clock.
import { now } from "./bridge.ts";

const origin = now();

export default class Time {
  static timezone = 0;
  static dst = 0;
  static get ticks(): number { return Math.floor(now() - origin); }
  static get microseconds(): number { return Math.floor((now() - origin) * 1000); }
  static set(_seconds: number): void { /* the worker's wall clock is the host's; nothing to set */ }
  static delta(start: number, end?: number): number { return (end ?? Time.ticks) - start; }
}
