// A feed space on any MQTT broker: feed and group topics under a prefix, value checks, an optional rate
// limiter, last-value requests after each SUBACK. AdafruitIO (adafruit-io.ts) is this with IO's rules.
import Timer from "timer";
import type { MQTTClient, MessageHandler, Subscription, Topic } from "../mqtt/client";
import type { MQTTError } from "../mqtt/errors";
import { FeedError, FeedErrorCode } from "./errors";
import { type BooleanTexts, type KeyRule, checkKey } from "./values";
import { Feed, type FeedOptions } from "./feed";
import type { FeedSpace } from "./space";

export type { FeedSpace };
import { Group, type GroupOptions } from "./group";
import { type Payload, RateLimiter, type RateLimitOptions } from "./rate-limiter";
import { NEVER } from "../net/timer-repeat";

export interface FeedsOptions {
  /** Topic of a feed = prefix + key (default ""): e.g. "home/sensors/". */
  prefix?: string;
  /** Topic of a group = groupPrefix + key (default: prefix). */
  groupPrefix?: string;
  /** Short-form prefixes, for feeds/groups made with `short: true` (default: the long ones). */
  shortPrefix?: string;
  shortGroupPrefix?: string;
  /** Feeds and groups use the short prefixes unless they say otherwise (default false). */
  short?: boolean;
  /** "topic" (default): any text a topic name can hold; "adafruit": lowercase letters, digits, dashes. */
  keys?: KeyRule;
  /** Default QoS of feeds and groups (default 0). */
  qos?: 0 | 1 | 2;
  /** Highest QoS the broker takes (default 2; Adafruit IO: 1). */
  maxQos?: 1 | 2;
  /** Largest value in UTF-8 bytes (default 1024, Adafruit IO's limit). */
  maxValueBytes?: number;
  /** After each SUBACK of a feed subscription, request its last value on `{topic}/get` (default false). */
  requestLast?: boolean;
  /** Client-side data-rate limit (default none here; AdafruitIO sets 30 a minute). */
  rate?: RateLimitOptions | false;
  /** Boolean texts (default "ON"/"OFF"). */
  on?: string;
  off?: string;
}

/** `/get` payload: any payload works; a single NUL byte is what Adafruit's own libraries send. */
const GET_PAYLOAD = new Uint8Array(1);

export class Feeds implements FeedSpace {
  readonly client: MQTTClient;
  readonly limiter: RateLimiter | undefined;
  readonly keyRule: KeyRule;
  readonly maxValueBytes: number;
  readonly maxQos: number;
  readonly qos: number;
  readonly texts: BooleanTexts;
  readonly prefix: string;
  readonly groupPrefix: string;
  readonly shortPrefix: string;
  readonly shortGroupPrefix: string;
  /** Last-value requests sent after SUBACKs and by Feed.get(). */
  lastValueRequests = 0;

  // The space owns its client's callbacks and passes each event on: set these, not the client's.
  /** CONNACK accepted. */
  onConnect: ((sessionPresent: boolean) => void) | undefined;
  /** The connection ended (a reconnect follows unless closed). */
  onClose: ((error: MQTTError | undefined) => void) | undefined;
  /** A QoS 1 publish was acknowledged. */
  onDelivered: ((packetId: number) => void) | undefined;
  /** SUBACKs: the QoS granted, or 0x80 when refused. */
  onSubscribe: ((filter: string, granted: number) => void) | undefined;
  /** Client errors, refused values, rate-limit drops and service reports. */
  onError: ((error: FeedError | MQTTError) => void) | undefined;

  protected readonly requestLastDefault: boolean;
  private readonly shortDefault: boolean;
  private link = true;
  private holding = false;
  private holdTimer: Timer | undefined;

  constructor(client: MQTTClient, options: FeedsOptions = {}) {
    this.client = client;
    this.prefix = options.prefix ?? "";
    this.groupPrefix = options.groupPrefix ?? this.prefix;
    this.shortPrefix = options.shortPrefix ?? this.prefix;
    this.shortGroupPrefix = options.shortGroupPrefix ?? this.groupPrefix;
    this.keyRule = options.keys ?? "topic";
    this.maxQos = options.maxQos ?? 2;
    this.maxValueBytes = options.maxValueBytes ?? 1024;
    this.texts = { on: options.on ?? "ON", off: options.off ?? "OFF" };
    this.requestLastDefault = options.requestLast ?? false;
    this.shortDefault = options.short ?? false;
    if (!(this.maxValueBytes > 0)) throw new RangeError("maxValueBytes must be > 0");
    this.qos = 0;
    this.qos = this.checkQos(options.qos, "default");
    const send = (topic: string | Topic, payload: Payload, qos: number) => this.client.publish(topic, payload, qos);
    this.limiter = options.rate ? new RateLimiter(options.rate, send) : undefined;
    if (this.limiter) this.limiter.onError = (e) => this.report(e);
    client.onConnect = (sessionPresent) => this.connected(sessionPresent);
    client.onSubscribe = (filter, granted) => this.onSubscribe?.(filter, granted);
    client.onError = (error) => this.clientError(error);
    client.onClose = (error) => this.onClose?.(error);
    client.onDelivered = (packetId) => this.onDelivered?.(packetId);
  }

  /** A feed; `key` is checked against the space's key rule. */
  feed(key: string, options: FeedOptions = {}): Feed {
    checkKey(key, this.keyRule, "feed");
    return new Feed(this, key, ((options.short ?? this.shortDefault) ? this.shortPrefix : this.prefix) + key, options);
  }

  /** A group of feeds published together. */
  group(key: string, options: GroupOptions = {}): Group {
    checkKey(key, this.keyRule, "group");
    return new Group(this, key, ((options.short ?? this.shortDefault) ? this.shortGroupPrefix : this.groupPrefix) + key, options);
  }

  /** Packets waiting in the rate limiter and in the client's queue. */
  get queued(): number {
    return (this.limiter?.pending ?? 0) + this.client.session.queued;
  }

  /**
   * Network link state, e.g. from WiFiManager's link listener: passed on to client.setLink, except while the
   * space holds the connection down (AdafruitIO after a refused key). Down also ends the current connection.
   */
  setLink(up: boolean): void {
    this.link = up;
    this.client.setLink(up && !this.holding);
    // A station that lost its IP has lost its TCP connections with it (lwip aborts them; the next lease may differ):
    // end ours now instead of waiting for the keepalive. Unacknowledged QoS 1/2 publishes are resent after reconnect.
    if (!up) this.client.disconnect();
  }

  /** Closes the client and stops the space's timers. */
  close(): void {
    this.limiter?.close();
    if (this.holdTimer !== undefined) Timer.clear(this.holdTimer);
    this.holdTimer = undefined;
    this.client.close();
  }

  // --- FeedSpace -------------------------------------------------------------------------------

  checkQos(qos: number | undefined, what: string): number {
    const q = qos ?? this.qos;
    if (q === 2 && this.maxQos < 2) throw new FeedError(FeedErrorCode.QosNotSupported, this.qos2Message(what));
    if (q !== 0 && q !== 1 && q !== 2) throw new FeedError(FeedErrorCode.BadValue, `${what}: qos must be 0, 1 or 2, not ${q}`);
    return q;
  }

  send(topic: string | Topic, payload: Payload, qos: number, cost: number): number {
    if (this.limiter) return this.limiter.submit(topic, payload, qos, cost);
    return this.client.publish(topic, payload, qos);
  }

  requestLast(topic: string): number {
    this.lastValueRequests++;
    return this.client.publish(topic + "/get", GET_PAYLOAD, 0);
  }

  subscribe(topic: string, qos: number, handler: MessageHandler, requestLast: boolean): void {
    const sub = this.client.subscribe(topic, qos as 0 | 1 | 2, handler);
    // The last value is asked for once the broker has the subscription, after every SUBACK (reconnects too).
    sub.onGranted = requestLast && this.requestLastDefault ? this.requestLastOnGrant : undefined;
  }

  unsubscribe(topic: string): void {
    this.client.unsubscribe(topic);
  }

  report(error: FeedError | MQTTError): void {
    this.onError?.(error);
  }

  // --- for subclasses ------------------------------------------------------------------------------

  protected qos2Message(what: string): string {
    return `${what}: this broker takes QoS 0 and 1 only; use qos 1 for acknowledged delivery`;
  }

  protected connected(sessionPresent: boolean): void {
    this.onConnect?.(sessionPresent);
  }

  protected clientError(error: MQTTError): void {
    this.report(error);
  }

  /** Keeps the client offline for `ms` whatever the link says (e.g. after a refused key), then reconnects. */
  protected hold(ms: number): void {
    this.holding = true;
    this.holdTimer ??= Timer.repeat(() => this.endHold(), NEVER);
    Timer.schedule(this.holdTimer, ms, NEVER);
    this.client.setLink(false);
  }

  private endHold(): void {
    if (this.holdTimer !== undefined) Timer.schedule(this.holdTimer);
    this.holding = false;
    this.client.setLink(this.link);
  }

  private readonly requestLastOnGrant = (granted: number, sub: Subscription): void => {
    if (granted !== 0x80) this.requestLast(sub.filter);
  };
}

export default Feeds;
