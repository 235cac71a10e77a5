// Moddable's `timer` module INSIDE XS (semantics in hosts/shared/moddable-timer.ts): callbacks run in XS,
// the waiting is done by Node timers through the command channel.
import { Delivery, Request, u32, readU32 } from "../protocol.ts";
import { guarded, nextId, now, onDelivery, request } from "./bridge.ts";
import { TimerRecord, makeTimerClass } from "../../shared/moddable-timer.ts";

const timers = new Map<number, XSTimer>();

class XSTimer extends TimerRecord {
  readonly id = nextId();
  /** Matches host fire messages to the latest wait, so a fire already queued for an old one is ignored. */
  generation = 0;

  protected wait(delay: number): void {
    this.generation = (this.generation + 1) >>> 0;
    timers.set(this.id, this);
    const payload = new Uint8Array(8);
    payload.set(u32(Math.max(0, Math.floor(delay))), 0);
    payload.set(u32(this.generation), 4);
    request(Request.TimerSet, this.id, payload);
  }

  protected cancel(): void {
    this.generation = (this.generation + 1) >>> 0;
    request(Request.TimerClear, this.id);
  }

  protected invoke(): void {
    guarded(() => this.callback.call(globalThis, this));
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
