// Exponential backoff with jitter, the one used by every retry loop (MQTT reconnect, Wi-Fi, feeds).
// Random numbers come from a small xorshift seeded per device (XS repeats Math.random() every boot).

export interface BackoffOptions {
  /** First delay in ms (default 1000). */
  min?: number;
  /** Largest delay in ms (default 60000). */
  max?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Fraction of the delay that is randomised, 0..1 (default 0.5: delay in [d/2, d]). */
  jitter?: number;
  /** Seed for the jitter (derive it from the MAC so a fleet does not retry in lock-step). */
  seed?: number;
}

export class Backoff {
  readonly min: number;
  readonly max: number;
  readonly factor: number;
  readonly jitter: number;
  /** Attempts made since the last reset. */
  attempt = 0;
  private state: number;

  constructor(options: BackoffOptions = {}) {
    this.min = options.min ?? 1000;
    this.max = options.max ?? 60000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.5;
    if (!(this.min >= 0) || !(this.max >= this.min) || !(this.factor >= 1) || !(this.jitter >= 0 && this.jitter <= 1))
      throw new RangeError("Backoff: need 0 <= min <= max, factor >= 1, 0 <= jitter <= 1");
    this.state = (options.seed ?? 0x9e3779b9) | 0 || 1;
  }

  /** The delay before the next attempt, growing each call until `reset()`. */
  next(): number {
    let d = this.min * Math.pow(this.factor, this.attempt);
    if (d > this.max) d = this.max;
    else this.attempt++;
    return Math.round(d - d * this.jitter * this.random());
  }

  /** Call after a success: the next delay starts from `min` again. */
  reset(): void {
    this.attempt = 0;
  }

  /** A number in [0, 1) from xorshift32. */
  random(): number {
    const x = this.state = xorshift32(this.state);
    return (x >>> 0) / 4294967296;
  }
}

/** The next state of xorshift32 (never 0 from a non-zero state): the small PRNG of the retry jitter and WebSocket masks. */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  return x ^ (x << 5);
}

/** A 32-bit seed from a string such as a MAC address or client id (FNV-1a). */
export function seedFrom(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h | 0;
}
