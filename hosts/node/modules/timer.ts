// Node implementation of Moddable's `timer` module, on the current device's clock.
// Semantics per the Moddable docs: set/repeat/schedule/clear/delay; a timer whose repeat interval is 0
// when its callback returns is cleared; schedule() with no intervals unschedules it.
import { currentDevice, type Device } from "../device.ts";

class TimerInstance {
  handle: unknown = undefined;
  repeat = 0;
  /** When the timer is meant to fire; repeats advance it by the interval so they do not drift (like modTimer). */
  due = 0;
  cleared = false;
  /** schedule() without intervals: waits, not cleared, until scheduled again. */
  parked = false;
  constructor(readonly device: Device, readonly callback: (id: TimerInstance) => void) {}

  arm(initial: number): void {
    this.disarm();
    this.parked = false;
    this.due = this.device.clock.now() + initial;
    this.handle = this.device.clock.schedule(() => this.fire(), initial);
  }

  private rearm(interval: number): void {
    this.due += interval;
    this.handle = this.device.clock.schedule(() => this.fire(), Math.max(0, this.due - this.device.clock.now()));
  }

  disarm(): void {
    if (this.handle !== undefined) this.device.clock.cancel(this.handle);
    this.handle = undefined;
  }

  private fire(): void {
    this.handle = undefined;
    if (this.cleared) return;
    // Re-arm before the callback so a schedule() inside it wins over the repeat.
    const repeat = this.repeat;
    if (repeat > 0) this.rearm(repeat);
    this.device.run(() => this.callback.call(globalThis, this));
    // Moddable clears a timer whose repeat interval is 0 when its callback returns, even one it rescheduled.
    if (this.repeat === 0 && !this.parked && !this.cleared) {
      this.cleared = true;
      this.disarm();
    }
  }
}

function check(id: unknown): TimerInstance {
  if (!(id instanceof TimerInstance)) throw new TypeError("Timer: not a timer instance");
  return id;
}

export default class Timer {
  static set(callback: (id: any) => void, initial?: number, repeat?: number): any {
    if (typeof callback !== "function") throw new TypeError("Timer.set: callback is not a function");
    const t = new TimerInstance(currentDevice(), callback);
    t.repeat = repeat ?? 0;
    t.arm(initial ?? 0);
    return t;
  }

  static repeat(callback: (id: any) => void, interval: number): any {
    return Timer.set(callback, interval, interval);
  }

  static schedule(id: any, initial?: number, repeat?: number): void {
    const t = check(id);
    if (t.cleared) throw new Error("Timer.schedule: timer was cleared");
    if (initial === undefined) {
      t.disarm();
      t.repeat = 0;
      t.parked = true;
      return;
    }
    t.repeat = repeat ?? 0;
    t.arm(initial);
  }

  static clear(id: any): void {
    // Like modTimer: anything that is not a live timer (undefined, null, other values) is ignored.
    if (!(id instanceof TimerInstance)) return;
    const t = id;
    t.cleared = true;
    t.disarm();
  }

  static delay(ms: number): void {
    const end = performance.now() + ms;
    while (performance.now() < end) { /* Moddable's delay blocks too */ }
  }
}
