// Node implementation of Moddable's `timer` module, on the current device's clock (semantics in
// hosts/shared/moddable-timer.ts). Repeats advance from their due time so they do not drift (like modTimer).
import { currentDevice, type Device } from "../device.ts";
import { TimerRecord, makeTimerClass } from "../../shared/moddable-timer.ts";

class DeviceTimer extends TimerRecord {
  private handle: unknown = undefined;
  private due = 0;
  private readonly onDue = () => { this.handle = undefined; this.fire(); };

  constructor(readonly device: Device, callback: (timer: unknown) => void) {
    super(callback);
  }

  protected wait(delay: number, again: boolean): void {
    const clock = this.device.clock;
    this.due = again ? this.due + delay : clock.now() + delay;
    this.handle = clock.schedule(this.onDue, Math.max(0, this.due - clock.now()));
  }

  protected cancel(): void {
    if (this.handle !== undefined) this.device.clock.cancel(this.handle);
    this.handle = undefined;
  }

  protected invoke(): void {
    this.device.run(() => this.callback.call(globalThis, this));
  }
}

export default makeTimerClass((callback) => new DeviceTimer(currentDevice(), callback), () => performance.now());
