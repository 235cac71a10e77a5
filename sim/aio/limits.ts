// Per-user enforcement for the Adafruit IO emulator: the rolling one-minute data-rate limit and the
// temporary bans that follow repeated violations (throttled or rejected publishes, refused subscribes).

export interface LimitOptions {
  /** Data points allowed per user per rolling window (Adafruit IO free accounts: 30 a minute). */
  ratePerWindow: number;
  /** Rolling window length in ms (60 000 on the real service). */
  windowMs: number;
  /** Violations within one window that trigger a ban (the service names 10); 0 disables bans. */
  banAfter: number;
  /** First ban length in ms; the n-th ban within an hour lasts n times this, at most an hour. */
  banMs: number;
}

interface UserState { points: number[]; violations: number[]; bans: number[]; bannedUntil: number }

const HOUR = 3_600_000;

export class Limits {
  private users = new Map<string, UserState>();

  constructor(private readonly options: LimitOptions) {}

  private state(user: string): UserState {
    let s = this.users.get(user);
    if (!s) this.users.set(user, (s = { points: [], violations: [], bans: [], bannedUntil: 0 }));
    return s;
  }

  private prune(list: number[], now: number, span: number): void {
    while (list.length > 0 && list[0] <= now - span) list.shift();
  }

  /** Counts one data point; when the user is over the limit it is refused with the wait until a slot frees. */
  takePoint(user: string, now: number): { ok: true } | { ok: false; waitMs: number } {
    const s = this.state(user);
    this.prune(s.points, now, this.options.windowMs);
    if (s.points.length >= this.options.ratePerWindow) {
      return { ok: false, waitMs: Math.max(0, s.points[0] + this.options.windowMs - now) };
    }
    s.points.push(now);
    return { ok: true };
  }

  /** Milliseconds left on a ban, 0 if the user is not banned. */
  bannedFor(user: string, now: number): number {
    return Math.max(0, this.state(user).bannedUntil - now);
  }

  /** Records a violation; returns the new ban's length in ms when this one triggers a ban, else 0. */
  violation(user: string, now: number): number {
    const { banAfter, banMs, windowMs } = this.options;
    const s = this.state(user);
    if (banAfter <= 0) return 0;
    this.prune(s.violations, now, windowMs);
    s.violations.push(now);
    if (s.violations.length < banAfter) return 0;
    s.violations.length = 0;
    this.prune(s.bans, now, HOUR);
    s.bans.push(now);
    const length = Math.min(HOUR, banMs * s.bans.length);
    s.bannedUntil = now + length;
    return length;
  }
}
