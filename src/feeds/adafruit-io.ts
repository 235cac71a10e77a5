// Adafruit IO over MQTT: the feed space `{user}/feeds/...` with IO's rules (keys, QoS 0/1, 1 KB values,
// 30 points a minute), its `{user}/throttle` and `{user}/errors` reports, time topics, and care with logins.
import { MQTTClient, type MQTTClientOptions, type Message } from "../mqtt/client";
import { ErrorCode, MQTTError, connackMessages } from "../mqtt/errors";
import { Backoff, type BackoffOptions, seedFrom } from "../net/backoff";
import type { Transport } from "../net/transport";
import { TlsTransport, type TlsOptions } from "../net/tls-transport";
import { WebSocketTransport, type WebSocketTransportOptions } from "../net/ws-transport";
import { FeedError, FeedErrorCode } from "./errors";
import { Feeds } from "./feeds";
import type { RateLimitOptions } from "./rate-limiter";

export interface AdafruitIOOptions extends Omit<MQTTClientOptions, "host" | "port" | "username" | "password" | "clientId"> {
  /** MQTT client id; default "" (IO's advice: leave it blank unless you need a persistent session). */
  clientId?: string;
  /** Adafruit IO user name (AIO_USERNAME). */
  user: string;
  /** Adafruit IO key (AIO_KEY), sent as the password; never traced or put in error messages. Required for
   *  io.adafruit.com; may be empty for a local broker without passwords. */
  key: string;
  /** Default "io.adafruit.com"; point it at a local emulator in tests. */
  host?: string;
  /** Default 8883 over TLS, 1883 without; with `webSocket`, 443 (80 without TLS). */
  port?: number;
  /**
   * MQTT over TLS: the key is the MQTT password, and TLS keeps it off the wire. Default: on whenever a key is set;
   * `false` sends the key in clear text, an explicit choice. An object: TLS with these settings (`ca`, ...).
   */
  secure?: boolean | TlsOptions;
  /** MQTT over WebSocket (wss:// on 443, ws:// on 80 with `secure: false`); an object: its `path` (default "/mqtt"), `frameSize`. */
  webSocket?: boolean | Pick<WebSocketTransportOptions, "path" | "frameSize">;
  /** Default QoS of feeds (0 or 1; default 0). */
  qos?: 0 | 1;
  /** Client-side rate limit (default 30 points per 60 s, 8 held, drop-oldest); false: none. */
  rate?: RateLimitOptions | false;
  /** Reconnect back-off (default 5 s growing to 2 min: under IO's 20 connection attempts a minute). */
  reconnect?: BackoffOptions | false;
  /** Wait after a refused key (CONNACK 4/5), default 60 s doubling to 15 min: repeated bad logins get banned. */
  refusedBackoff?: BackoffOptions;
  /** Feeds and groups use the short `/f/` and `/g/` topics by default. */
  short?: boolean;
}

export type TimeTopic = "seconds" | "millis" | "hours" | "ISO-8601";

const DEFAULT_HOST = "io.adafruit.com";

function makeClient(o: AdafruitIOOptions): MQTTClient {
  if (!o || typeof o.user !== "string" || !o.user || /[/+#\s]/.test(o.user))
    throw new FeedError(FeedErrorCode.BadKey, `Adafruit IO user "${o?.user ?? ""}" must be a non-empty name without "/", "+", "#" or spaces`);
  const host = o.host ?? DEFAULT_HOST;
  // Adafruit IO itself needs the key; a local broker that only follows its topic conventions may not.
  if (o.key !== undefined && typeof o.key !== "string") throw new FeedError(FeedErrorCode.BadKey, `Adafruit IO key for user ${o.user} must be a string`);
  if (!o.key && host === DEFAULT_HOST) throw new FeedError(FeedErrorCode.BadKey, `Adafruit IO key for user ${o.user} is missing: set AIO_KEY`);
  // A key means TLS unless the caller says otherwise: the key is the password and would cross the network in clear.
  const secure = o.secure ?? !!o.key;
  const port = o.port ?? (o.webSocket ? (secure ? AdafruitIO.webSocketPort : 80) : secure ? AdafruitIO.securePort : AdafruitIO.port);
  if (o.secure === undefined && secure && port === AdafruitIO.port)
    throw new FeedError(FeedErrorCode.Unsupported, `Adafruit IO key for user ${o.user} on port ${port}, MQTT without TLS: the key would cross the network in clear text. ` +
      `Use port ${AdafruitIO.securePort} (TLS, the default with a key), or set secure: false to send it in clear text on purpose`);
  const version = (o as { protocolVersion?: number }).protocolVersion ?? (o as { protocol?: number }).protocol;
  if (version !== undefined && version !== 4)
    throw new FeedError(FeedErrorCode.Unsupported, `protocol ${version}: Adafruit IO speaks MQTT 3.1.1 only (protocolVersion 4, the default); ` +
      "use MQTTClient with protocolVersion 5 for a broker that speaks MQTT 5.0");
  if (o.qos !== undefined && o.qos !== 0 && o.qos !== 1)
    throw new FeedError(FeedErrorCode.QosNotSupported, `qos ${o.qos}: Adafruit IO supports QoS 0 and 1 only; use qos 1 for acknowledged delivery`);
  // Not connecting yet: the constructor finishes setting up (and may still throw) before the first attempt.
  return new MQTTClient({
    ...o,
    clientId: o.clientId ?? "", // IO's advice: leave it blank unless you need one
    connect: false,
    host,
    port,
    username: o.user,
    password: o.key ? o.key : undefined,
    transport: o.transport ?? transportFor(o, secure),
    reconnect: o.reconnect === false ? false : { min: 5000, max: 120000, ...o.reconnect },
  });
}

/** The connection the options ask for: TLS, WebSocket (over TLS or not), or undefined for the client's plain TCP. */
function transportFor(o: AdafruitIOOptions, secure: boolean | TlsOptions): Transport | undefined {
  const tls = secure ? new TlsTransport(secure === true ? {} : secure) : undefined;
  if (!o.webSocket) return tls;
  return new WebSocketTransport({ ...(o.webSocket === true ? {} : o.webSocket), transport: tls });
}

/** The number in "... N seconds ..." (IO's throttle and ban notices), or -1. */
function secondsIn(text: string): number {
  const at = text.indexOf(" second");
  if (at < 0) return -1;
  let start = at;
  while (start > 0 && text.charCodeAt(start - 1) >= 48 && text.charCodeAt(start - 1) <= 57) start--;
  return start < at ? Number(text.slice(start, at)) : -1;
}

export class AdafruitIO extends Feeds {
  static readonly host = DEFAULT_HOST;
  static readonly port = 1883;
  static readonly securePort = 8883;
  static readonly webSocketPort = 443;

  readonly user: string;
  /** `{user}/throttle` said points were discarded; publishing is paused for `waitSeconds` (if given). */
  onThrottle: ((message: string, waitSeconds: number) => void) | undefined;
  /** Notices received on `{user}/throttle` and `{user}/errors`, and refused logins. */
  throttles = 0;
  serviceErrors = 0;
  refusals = 0;

  private readonly refusedBackoff: Backoff;

  constructor(options: AdafruitIOOptions) {
    const client = makeClient(options);
    super(client, {
      prefix: `${options.user}/feeds/`,
      groupPrefix: `${options.user}/groups/`,
      shortPrefix: `${options.user}/f/`,
      shortGroupPrefix: `${options.user}/g/`,
      keys: "adafruit",
      qos: options.qos ?? 0,
      maxQos: 1,
      maxValueBytes: 1024,
      requestLast: true,
      short: options.short,
      rate: options.rate === false ? false : { limit: 30, window: 60000, ...options.rate },
    });
    this.user = options.user;
    const rb = options.refusedBackoff ?? {};
    this.refusedBackoff = new Backoff({ min: rb.min ?? 60000, max: rb.max ?? 900000, factor: rb.factor ?? 2, jitter: rb.jitter ?? 0.25, seed: rb.seed ?? seedFrom(options.clientId ?? options.user) });
    client.subscribe(`${this.user}/throttle`, 0, (m) => this.throttled(m));
    client.subscribe(`${this.user}/errors`, 0, (m) => this.serviceError(m));
    // Start now, or (connect: false) at the first setLink(true).
    if (options.connect !== false) this.setLink(true);
  }

  /** Subscribes to `time/seconds|millis|hours` (numbers) or `time/ISO-8601` (text), sent by IO every second. */
  time(topic: "seconds" | "millis" | "hours", handler: (value: number) => void): void;
  time(topic: "ISO-8601", handler: (value: string) => void): void;
  time(topic: TimeTopic, handler: ((value: number) => void) | ((value: string) => void)): void {
    if (topic !== "seconds" && topic !== "millis" && topic !== "hours" && topic !== "ISO-8601")
      throw new FeedError(FeedErrorCode.BadKey, `time/${topic} is not an Adafruit IO time topic (seconds, millis, hours, ISO-8601)`);
    const text = topic === "ISO-8601";
    this.subscribe("time/" + topic, 0, (m: Message) => {
      if (text) (handler as (v: string) => void)(m.text);
      else (handler as (v: number) => void)(m.number);
    }, false);
  }

  protected override qos2Message(what: string): string {
    return `${what}: Adafruit IO supports QoS 0 and 1 only; use qos 1 for acknowledged delivery`;
  }

  protected override connected(sessionPresent: boolean): void {
    this.refusedBackoff.reset();
    super.connected(sessionPresent);
  }

  protected override clientError(error: MQTTError): void {
    const rc = error.reasonCode;
    if (error.code === ErrorCode.ConnectionRefused && (rc === 4 || rc === 5)) {
      this.refusals++;
      const wait = this.refusedBackoff.next();
      this.hold(wait);
      const seconds = Math.round(wait / 1000);
      this.report(new FeedError(FeedErrorCode.KeyRefused,
        `Adafruit IO refused the key for user ${this.user}: check AIO_KEY (CONNACK ${rc}: ${connackMessages[rc]}); next login attempt in ${seconds} s`, seconds));
      return;
    }
    super.clientError(error);
  }

  private throttled(m: Message): void {
    this.throttles++;
    const text = m.text;
    const seconds = secondsIn(text);
    if (seconds > 0) this.limiter?.pause(seconds * 1000);
    this.onThrottle?.(text, seconds);
    this.report(new FeedError(FeedErrorCode.Throttled, `Adafruit IO throttled user ${this.user}: ${text}`, seconds >= 0 ? seconds : undefined));
  }

  private serviceError(m: Message): void {
    this.serviceErrors++;
    const text = m.text;
    const banned = text.indexOf("banned") >= 0;
    const seconds = banned ? secondsIn(text) : -1;
    if (seconds > 0) this.limiter?.pause(seconds * 1000);
    this.report(new FeedError(banned ? FeedErrorCode.Banned : FeedErrorCode.ServiceError, `Adafruit IO error for user ${this.user}: ${text}`, seconds >= 0 ? seconds : undefined));
  }
}

export { MQTTError };
export default AdafruitIO;
