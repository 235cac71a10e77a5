// Moddable SDK `time` module (documentation/base/base.md#time).
declare module "time" {
  export default class Time {
    /** Millisecond tick counter, unrelated to the time of day. */
    static readonly ticks: number;
    static timezone: number;
    static dst: number;
    static readonly microseconds: number;
    static set(seconds: number): void;
    /** start..end (default now) in ms, correct across tick roll-over. */
    static delta(start: number, end?: number): number;
  }
}
