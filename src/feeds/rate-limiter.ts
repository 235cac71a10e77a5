// Keeps the data points handed to the MQTT client under `limit` per rolling `window` (Adafruit IO counts
// 30 a minute on free accounts), holding or dropping the excess by a fixed policy. One Timer, no allocation.
import Timer from "timer";
import Time from "time";
import { FeedError, FeedErrorCode } from "./errors";
import type { Topic } from "../mqtt/topic-bytes";
import { NEVER } from "../net/timer-repeat";

export type Payload = string | number | Uint8Array;
/** Hands one publish to the client; returns what MQTTClient.publish returns. */
export type Sender = (topic: string | Topic, payload: Payload, qos: number) => number;

export type RateOverflow = "drop-oldest" | "drop-newest";

export interface RateLimitOptions {
  /** Data points per window (default 30: a free Adafruit IO account; IO+ allows more). */
  limit?: number;
  /** Rolling window in ms (default 60000). */
  window?: number;
  /** Points held back while over the limit, sent in order as the window frees up (default 8; 0: drop at once). */
  queue?: number;
  /**
   * When the held queue is full: "drop-oldest" (default; the freshest readings survive) or "drop-newest"
   * (the new point is refused). Every drop is counted in `dropped` and reported to `onError`.
   */
  overflow?: RateOverflow;
}

/** `submit` result: the point waits in the limiter's queue and will be handed to the client later. */
export const HELD = -2;
/** `submit` result: the point was dropped (limiter queue full, or the client's own queue refused it). */
export const DROPPED = -1;


export class RateLimiter {
  readonly limit: number;
  readonly window: number;
  readonly capacity: number;
  readonly overflow: RateOverflow;
  /** Points handed to the client (at once or after waiting). */
  sent = 0;
  /** Points that had to wait (they are in `sent` once released). */
  held = 0;
  /** Points dropped by the overflow policy. */
  dropped = 0;
  /** A point was dropped (the error names the topic and the policy). */
  onError: ((error: FeedError) => void) | undefined;

  private readonly send: Sender;
  /** When each point of the current window was sent: a ring of `limit` stamps, oldest at `head`. */
  private readonly stamps: Float64Array;
  private head = 0;
  private count = 0;
  private readonly topics: (string | Topic)[];
  private readonly payloads: Payload[];
  private readonly qos: Uint8Array;
  private readonly costs: Uint16Array;
  private qHead = 0;
  private qCount = 0;
  private pausedUntil = 0;
  private timer: Timer | undefined;

  constructor(options: RateLimitOptions, send: Sender) {
    this.limit = options.limit ?? 30;
    this.window = options.window ?? 60000;
    this.capacity = options.queue ?? 8;
    this.overflow = options.overflow ?? "drop-oldest";
    if (!(this.limit >= 1 && this.limit <= 65535) || (this.limit | 0) !== this.limit) throw new RangeError("rate limit must be an integer 1..65535");
    if (!(this.window > 0)) throw new RangeError("rate window must be > 0 ms");
    if (!(this.capacity >= 0) || (this.capacity | 0) !== this.capacity) throw new RangeError("rate queue must be an integer >= 0");
    if (this.overflow !== "drop-oldest" && this.overflow !== "drop-newest") throw new RangeError(`rate overflow must be "drop-oldest" or "drop-newest"`);
    this.send = send;
    this.stamps = new Float64Array(this.limit);
    const n = this.capacity || 1;
    this.topics = new Array<string>(n);
    this.payloads = new Array<Payload>(n);
    this.qos = new Uint8Array(n);
    this.costs = new Uint16Array(n);
    this.timer = Timer.repeat(() => this.release(), NEVER);
    Timer.schedule(this.timer);
  }

  /** Points waiting now. */
  get pending(): number {
    return this.qCount;
  }

  /**
   * Sends now if the window has room for `cost` points and nobody is waiting, else holds or drops.
   * Returns the client's result (packet id, 0, or -1), HELD, or DROPPED.
   */
  submit(topic: string | Topic, payload: Payload, qos: number, cost = 1): number {
    if (cost > this.limit) throw new FeedError(FeedErrorCode.BadValue, `${cost} points at once can never fit a rate limit of ${this.limit} per ${this.window} ms`);
    const now = Time.ticks;
    if (this.qCount === 0 && this.wait(now, cost) === 0) {
      this.take(now, cost);
      this.sent++;
      return this.send(topic, payload, qos);
    }
    if (this.qCount === this.capacity) {
      if (this.capacity === 0 || this.overflow === "drop-newest") {
        this.drop(topic, "dropped this point");
        return DROPPED;
      }
      this.drop(this.topics[this.qHead], "dropped the oldest held point");
      this.shift();
    }
    const i = (this.qHead + this.qCount) % this.capacity;
    this.topics[i] = topic;
    this.payloads[i] = payload;
    this.qos[i] = qos;
    this.costs[i] = cost;
    this.qCount++;
    this.held++;
    this.arm(now);
    return HELD;
  }

  /** Holds everything for `ms` (the service said it is throttling or banning us). */
  pause(ms: number): void {
    const until = Time.ticks + ms;
    if (until > this.pausedUntil) this.pausedUntil = until;
    if (this.qCount) this.arm(Time.ticks);
  }

  /** Stops the timer; held points are dropped. */
  close(): void {
    if (this.timer !== undefined) Timer.clear(this.timer);
    this.timer = undefined;
    for (let i = 0; i < this.topics.length; i++) this.payloads[i] = this.topics[i] = undefined as unknown as string;
    this.qCount = 0;
  }

  /** ms until `cost` more points fit (0: now). */
  private wait(now: number, cost: number): number {
    if (now < this.pausedUntil) return this.pausedUntil - now;
    const stamps = this.stamps, limit = this.limit, window = this.window;
    while (this.count > 0 && stamps[this.head] + window <= now) {
      this.head = (this.head + 1) % limit;
      this.count--;
    }
    const excess = this.count + cost - limit;
    if (excess <= 0) return 0;
    return stamps[(this.head + excess - 1) % limit] + window - now;
  }

  private take(now: number, cost: number): void {
    for (let k = 0; k < cost; k++) {
      this.stamps[(this.head + this.count) % this.limit] = now;
      this.count++;
    }
  }

  private shift(): void {
    this.payloads[this.qHead] = this.topics[this.qHead] = undefined as unknown as string;
    this.qHead = (this.qHead + 1) % this.capacity;
    this.qCount--;
  }

  private drop(topic: string | Topic, what: string): void {
    this.dropped++;
    this.onError?.(new FeedError(FeedErrorCode.RateLimited,
      `"${typeof topic === "string" ? topic : topic.name}": over the rate limit of ${this.limit} points per ${this.window / 1000} s with ${this.capacity} held; ${what} (${this.overflow})`));
  }

  private arm(now: number): void {
    if (this.timer === undefined) return;
    Timer.schedule(this.timer, this.wait(now, this.costs[this.qHead]), NEVER);
  }

  private release(): void {
    if (this.timer === undefined) return;
    Timer.schedule(this.timer); // park; armed again below if points are left
    const now = Time.ticks;
    while (this.qCount > 0) {
      const i = this.qHead, cost = this.costs[i];
      if (this.wait(now, cost) > 0) break;
      const topic = this.topics[i], payload = this.payloads[i], qos = this.qos[i];
      this.take(now, cost);
      this.shift();
      this.sent++;
      try {
        this.send(topic, payload, qos);
      } catch (e) {
        this.onError?.(new FeedError(FeedErrorCode.BadValue, `"${topic}": held point could not be sent: ${(e as Error).message}`));
      }
    }
    if (this.qCount > 0) this.arm(now);
  }
}

export default RateLimiter;
