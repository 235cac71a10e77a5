// `pins/analog` for Moddable's `lin` platform, which has no ADC: a light level that drifts slowly, so the
// example app runs unchanged on the desktop simulator. Device code (XS): no Node APIs.
import Time from "time";

export default class Analog {
  readonly resolution = 10;
  private readonly pin: number;

  constructor(dictionary: { pin: number }) {
    this.pin = dictionary.pin;
  }

  /** 0..1023: a slow daylight-like wave plus a little flicker. */
  static read(pin: number): number {
    const t = Time.ticks / 1000;
    const level = 512 + 300 * Math.sin(t / 60 + pin) + 40 * Math.sin(t * 1.7);
    return Math.max(0, Math.min(1023, Math.round(level)));
  }

  read(): number {
    return Analog.read(this.pin);
  }

  close(): void {}
}
