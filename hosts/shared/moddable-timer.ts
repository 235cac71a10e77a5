// Moddable's `timer` semantics, shared by the simulator (hosts/node) and the XS runner (hosts/xs), which differ
// only in how they wait. As in modules/base/timer/modTimer.c: a timer whose repeat interval is 0 when its
// callback returns is done, even if the callback rescheduled it one-shot; schedule() without intervals parks it
// (kept, not fired) until scheduled again; clear() ignores anything that is not a live timer.
// Runs inside XS too: plain JavaScript, no Node APIs.

export abstract class TimerRecord {
  repeat = 0;
  armed = false;
  parked = false;
  cleared = false;
  constructor(readonly callback: (timer: unknown) => void) {}

  /** Start waiting `delay` ms, then call fire(). `again`: a repeat of the previous wait (for drift-free repeats). */
  protected abstract wait(delay: number, again: boolean): void;
  /** Stop the current wait. */
  protected abstract cancel(): void;
  /** Run the callback in the right context (device, error guard). */
  protected abstract invoke(): void;
  /** The timer is done: release host resources. */
  protected done(): void {}

  arm(initial: number): void {
    this.disarm();
    this.parked = false;
    this.armed = true;
    this.wait(initial, false);
  }

  disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    this.cancel();
  }

  park(): void {
    this.disarm();
    this.repeat = 0;
    this.parked = true;
  }

  clear(): void {
    this.disarm();
    if (!this.cleared) { this.cleared = true; this.done(); }
  }

  /** Called by the host when the wait is over. */
  fire(): void {
    if (this.cleared || !this.armed) return;
    this.armed = false;
    // Re-arm before the callback, so a schedule() inside it replaces the repeat.
    if (this.repeat > 0) { this.armed = true; this.wait(this.repeat, true); }
    this.invoke();
    if (this.repeat === 0 && !this.parked) this.clear();
  }
}

/** The `timer` module's default export over a host's TimerRecord. */
export function makeTimerClass(create: (callback: (timer: unknown) => void) => TimerRecord, now: () => number) {
  function check(id: unknown): TimerRecord {
    if (!(id instanceof TimerRecord)) throw new TypeError("Timer: not a timer instance");
    if (id.cleared) throw new Error("Timer.schedule: timer was cleared");
    return id;
  }
  return class Timer {
    static set(callback: (id: any) => void, initial?: number, repeat?: number): any {
      if (typeof callback !== "function") throw new TypeError("Timer.set: callback is not a function");
      const t = create(callback);
      t.repeat = repeat ?? 0;
      t.arm(initial ?? 0);
      return t;
    }

    static repeat(callback: (id: any) => void, interval: number): any {
      return Timer.set(callback, interval, interval);
    }

    static schedule(id: any, initial?: number, repeat?: number): void {
      const t = check(id);
      if (initial === undefined) { t.park(); return; }
      t.repeat = repeat ?? 0;
      t.arm(initial);
    }

    static clear(id: any): void {
      if (id instanceof TimerRecord) id.clear();
    }

    static delay(ms: number): void {
      const end = now() + ms;
      while (now() < end) { /* Moddable's delay blocks too */ }
    }
  };
}
