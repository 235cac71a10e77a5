// Moddable's `timer` module INSIDE XS: callbacks run in XS, the waiting is done by Node timers.
// Semantics per the Moddable docs: a timer with no repeat is cleared once its callback returns, unless the
// callback re-scheduled it; schedule() without intervals parks it; clear() accepts undefined.
import { Delivery, Request, u32, readU32 } from "../protocol.ts";
import { guarded, nextId, now, onDelivery, request } from "./bridge.ts";

class TimerRecord {
  /** Matches host fire messages to the latest arming, so a fire already queued for an old one is ignored. */
  generation = 0;
  armed = false;
  parked = false;
  cleared = false;
  constructor(readonly id: number, readonly callback: (id: unknown) => void, public repeat: number) {}
}

const timers = new Map<number, TimerRecord>();

function arm(t: TimerRecord, delay: number): void {
  t.generation = (t.generation + 1) >>> 0;
  t.armed = true;
  t.parked = false;
  const payload = new Uint8Array(8);
  payload.set(u32(Math.max(0, Math.floor(delay))), 0);
  payload.set(u32(t.generation), 4);
  request(Request.TimerSet, t.id, payload);
}

function disarm(t: TimerRecord): void {
  if (!t.armed) return;
  t.armed = false;
  t.generation = (t.generation + 1) >>> 0;
  request(Request.TimerClear, t.id);
}

onDelivery(Delivery.TimerFire, (id, bytes) => {
  const t = timers.get(id);
  if (!t || !t.armed || readU32(bytes, 0) !== t.generation) return;
  t.armed = false;
  if (t.repeat > 0) arm(t, t.repeat);
  guarded(() => t.callback.call(globalThis, t));
  if (!t.armed && !t.parked) {
    t.cleared = true;
    timers.delete(t.id);
  }
});

function check(id: unknown): TimerRecord {
  if (!(id instanceof TimerRecord)) throw new TypeError("Timer: not a timer instance");
  return id;
}

export default class Timer {
  static set(callback: (id: any) => void, initial?: number, repeat?: number): any {
    if (typeof callback !== "function") throw new TypeError("Timer.set: callback is not a function");
    const t = new TimerRecord(nextId(), callback, repeat ?? 0);
    timers.set(t.id, t);
    arm(t, initial ?? 0);
    return t;
  }

  static repeat(callback: (id: any) => void, interval: number): any {
    return Timer.set(callback, interval, interval);
  }

  static schedule(id: any, initial?: number, repeat?: number): void {
    const t = check(id);
    if (t.cleared) throw new Error("Timer.schedule: timer was cleared");
    if (initial === undefined) {
      disarm(t);
      t.repeat = 0;
      t.parked = true;
      return;
    }
    t.repeat = repeat ?? 0;
    arm(t, initial);
  }

  static clear(id: any): void {
    if (id === undefined || id === null) return;
    const t = check(id);
    disarm(t);
    t.cleared = true;
    timers.delete(t.id);
  }

  static delay(ms: number): void {
    const end = now() + ms;
    while (now() < end) { /* Moddable's delay blocks too */ }
  }
}
