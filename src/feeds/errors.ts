// Errors of the feed helpers: refused values and keys, rate limiting, and what Adafruit IO reports.
// Codes start at 100 so they never collide with MQTTError's: one `error.code` switch handles both.

export const FeedErrorCode = Object.freeze({
  /** A feed or group key the service cannot take (Adafruit IO: lowercase letters, digits, dashes). */
  BadKey: 101,
  /** A value longer than the service allows (1 KB on Adafruit IO); nothing was sent. */
  ValueTooLarge: 102,
  /** NaN or Infinity; nothing was sent. */
  NotFinite: 103,
  /** A value that cannot be sent (undefined, a function, JSON that does not serialise, a bad location). */
  BadValue: 104,
  /** QoS 2 asked of Adafruit IO, which supports QoS 0 and 1 only. */
  QosNotSupported: 105,
  /** A connection kind this build cannot make yet (TLS, WebSocket). */
  Unsupported: 106,
  /** The client-side rate limiter dropped a data point (see RateLimiter for the policy). */
  RateLimited: 107,
  /** The service reported throttling on `{user}/throttle`: points were discarded there. */
  Throttled: 108,
  /** The service reported a rejected action on `{user}/errors`. */
  ServiceError: 109,
  /** The service banned the account for a while (reported on `{user}/errors`). */
  Banned: 110,
  /** CONNACK 4/5: the service refused the user name or key. */
  KeyRefused: 111,
} as const);

export type FeedErrorCodeValue = (typeof FeedErrorCode)[keyof typeof FeedErrorCode];

export class FeedError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning the inherited name throws.
  override readonly name = "FeedError";
  readonly code: FeedErrorCodeValue;
  /** Seconds the service asked us to wait (throttle, ban, refused key back-off), when it said. */
  readonly waitSeconds: number | undefined;

  constructor(code: FeedErrorCodeValue, message: string, waitSeconds?: number) {
    super(message);
    this.code = code;
    this.waitSeconds = waitSeconds;
  }
}
