// Moddable SDK `timer` module (documentation/base/base.md#timer).
declare module "timer" {
  /** Opaque timer instance; only useful to pass back to Timer functions. */
  export type TimerId = { readonly __timer: unique symbol };
  export default class Timer {
    static set(callback: (id: TimerId) => void, initial?: number, repeat?: number): TimerId;
    static repeat(callback: (id: TimerId) => void, interval: number): TimerId;
    /** Without intervals: unscheduled until scheduled again (cheaper than clear + set). */
    static schedule(id: TimerId, initial?: number, repeat?: number): void;
    static clear(id: TimerId | undefined | null): void;
    static delay(ms: number): void;
  }
}
