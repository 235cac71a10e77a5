// Moddable's `timer` module INSIDE XS (semantics in hosts/shared/moddable-timer.ts): callbacks run in XS,
// the waiting is done by Node timers through the outbox. Arming, firing and clearing allocate nothing.
import { Delivery, Request, readU32 } from "../protocol.ts";
import { abort, begin, nextId, now, onDelivery, outboxBytes, send } from "./bridge.ts";
import { TimerRecord, makeTimerClass } from "../../shared/moddable-timer.ts";

const timers = new Map<number, XSTimer>();

class XSTimer extends TimerRecord {
  readonly id = nextId();
  /** Matches host fire messages to the latest wait, so a fire already queued for an old one is ignored. */
  generation = 0;

  protected wait(delay: number): void {
    this.generation = (this.generation + 1) >>> 0;
    timers.set(this.id, this);
    const at = begin(Request.TimerSet, this.id, 8);
    const ms = delay > 0 ? Math.floor(delay) : 0;
    const o = outboxBytes;
    o[at] = ms & 0xff; o[at + 1] = (ms >>> 8) & 0xff; o[at + 2] = (ms >>> 16) & 0xff; o[at + 3] = (ms >>> 24) & 0xff;
    const n = this.generation;
    o[at + 4] = n & 0xff; o[at + 5] = (n >>> 8) & 0xff; o[at + 6] = (n >>> 16) & 0xff; o[at + 7] = (n >>> 24) & 0xff;
  }

  protected cancel(): void {
    this.generation = (this.generation + 1) >>> 0;
    send(Request.TimerClear, this.id);
  }

  protected invoke(): void {
    try {
      this.callback.call(globalThis, this);
    } catch (e) {
      abort("timer", e);
    }
  }

  protected override done(): void {
    timers.delete(this.id);
  }
}

onDelivery(Delivery.TimerFire, (id, bytes) => {
  const t = timers.get(id);
  if (t && readU32(bytes, 0) === t.generation) t.fire();
});

export default makeTimerClass((callback) => new XSTimer(callback), now);
