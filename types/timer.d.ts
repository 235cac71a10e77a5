// Moddable SDK `timer` module (documentation/base/base.md#timer), declared like the SDK's typings: a Timer
// instance is opaque and only passed back to the static functions (the SDK exports no other type).
declare module "timer" {
  export type TimerCallback = (timer: Timer) => void;
  class Timer {
    private constructor();
    private brand: boolean;
    static set: (callback: TimerCallback, interval?: number, repeat?: number) => Timer;
    static repeat: (callback: TimerCallback, interval: number) => Timer;
    /** Without intervals: unscheduled until scheduled again (cheaper than clear + set). */
    static schedule: (timer: Timer, interval?: number, repeat?: number) => void;
    static clear: (timer: Timer | undefined | null) => void;
    static delay: (milliseconds: number) => void;
  }
  export { Timer as default };
}
