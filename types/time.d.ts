// Moddable SDK `time` module (documentation/base/base.md#time), declared like the SDK's typings.
declare module "time" {
  const Time: {
    /** Millisecond tick counter, unrelated to the time of day. */
    readonly ticks: number;
    timezone: number;
    dst: number;
    /** Not on every platform. */
    readonly microseconds?: number;
    set(seconds: number): void;
    /** start..end (default now) in ms, correct across tick roll-over. */
    delta(start: number, end?: number): number;
  };
  export { Time as default };
}
