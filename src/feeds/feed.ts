// One feed: publish a value in the plain, JSON (with location) or CSV form, ask for its last value, and
// receive typed values. The plain publish of a number or string allocates nothing: the topic is built once.
import type { Message } from "../mqtt/message";
import { Topic } from "../mqtt/topic-bytes";
import { NUMBER, STRING } from "../mqtt/kinds";
import { FeedError, FeedErrorCode } from "./errors";
import {
  type BooleanTexts, type Location, booleanOf, checkLocation, checkNumber, checkText, csvForm, jsonForm, valueText,
} from "./values";
import type { FeedSpace } from "./space";

export interface FeedOptions {
  /** QoS of publishes and of the subscription (default: the space's qos). Adafruit IO: 0 or 1. */
  qos?: 0 | 1 | 2;
  /** Use the short topic form (`{user}/f/{key}` on Adafruit IO): fewer bytes per packet. */
  short?: boolean;
  /** Texts for `publish(true/false)` and `onBoolean` (default "ON"/"OFF", like IO's toggle block). */
  on?: string;
  off?: string;
}

export class Feed {
  /** The feed key as given (`photocell`, or `group.feed` on Adafruit IO). */
  readonly key: string;
  /** Where plain values go and come from. */
  readonly topic: string;
  readonly qos: number;
  readonly texts: BooleanTexts;
  private readonly space: FeedSpace;
  /** The plain topic encoded once: publishing a value walks no string. */
  private readonly handle: Topic;
  // Built on first use: a device that only publishes plain values never pays for them.
  private jsonTopic: string | undefined;
  private csvTopic: string | undefined;

  constructor(space: FeedSpace, key: string, topic: string, options: FeedOptions = {}) {
    this.space = space;
    this.key = key;
    this.topic = topic;
    this.handle = new Topic(topic);
    this.qos = space.checkQos(options.qos, `feed "${key}"`);
    this.texts = { on: options.on ?? space.texts.on, off: options.off ?? space.texts.off };
  }

  /**
   * Publishes a number, string or boolean (as the on/off text). Plain form without `location`; with it,
   * the `/json` form `{"value":..,"lat":..,"lon":..,"ele":..}` (allocates). Refuses NaN/Infinity, values
   * over the size limit and bad locations before anything is sent. Returns the packet id (QoS 1), 0 (QoS 0),
   * HELD (-2: waiting in the rate limiter) or DROPPED (-1).
   */
  publish(value: number | string | boolean, location?: Location): number {
    if (location !== undefined) return this.publishForm(value, undefined, location);
    // Module constants, not literals, in the per-reading path (see mqtt/kinds); the what-text only on failure.
    if (typeof value === NUMBER) {
      if (!isFinite(value as number)) checkNumber(value as number, `feed "${this.key}"`);
      return this.space.send(this.handle, value as number, this.qos, 1);
    }
    if (typeof value === STRING) {
      checkText(value as string, this.space.maxValueBytes, `feed "${this.key}"`);
      return this.space.send(this.handle, value as string, this.qos, 1);
    }
    if (typeof value === "boolean") return this.space.send(this.handle, value ? this.texts.on : this.texts.off, this.qos, 1);
    throw new FeedError(FeedErrorCode.BadValue, `feed "${this.key}": cannot publish a ${typeof value}; use publishJSON for objects`);
  }

  /**
   * Publishes any JSON value (object, array...) as the feed's value: its JSON text on the plain topic, or inside
   * the `/json` envelope when `location` is given. Note that Adafruit IO reads an object with a `value` key
   * on the plain topic as its own `{value, lat, lon, ele}` form. Allocates.
   */
  publishJSON(value: unknown, location?: Location): number {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (e) {
      throw new FeedError(FeedErrorCode.BadValue, `feed "${this.key}": value does not serialise to JSON: ${(e as Error).message}`);
    }
    if (json === undefined) throw new FeedError(FeedErrorCode.BadValue, `feed "${this.key}": ${typeof value} has no JSON form`);
    if (location !== undefined) return this.publishForm(undefined, json, location);
    checkText(json, this.space.maxValueBytes, `feed "${this.key}"`);
    return this.space.send(this.topic, json, this.qos, 1);
  }

  /** Publishes on `{topic}/csv` as `value[,lat,lon[,ele]]` (the value quoted when it needs to be). Allocates. */
  publishCSV(value: number | string | boolean, location?: Location): number {
    const text = this.checkedText(value);
    if (location !== undefined) checkLocation(location, `feed "${this.key}"`);
    this.csvTopic ??= this.topic + "/csv";
    return this.space.send(this.csvTopic, csvForm(text, location), this.qos, 1);
  }

  /** Asks the broker for the last value (Adafruit IO's `{topic}/get`); it arrives on the subscription. */
  get(): number {
    return this.space.requestLast(this.topic);
  }

  /** Every message on the feed's topic (the Message is reused: copy what you keep). */
  subscribe(handler: (message: Message) => void): void {
    this.space.subscribe(this.topic, this.qos, handler, true);
  }

  /** Values parsed as numbers; anything else is reported to the space's onError. No allocation. */
  onNumber(handler: (value: number, message: Message) => void): void {
    this.subscribe((m) => {
      const n = m.number;
      if (isFinite(n)) handler(n, m);
      else this.space.report(new FeedError(FeedErrorCode.BadValue, `feed "${this.key}": received "${m.text}", not a number`));
    });
  }

  /** Values as text (allocates a string per message). */
  onText(handler: (text: string, message: Message) => void): void {
    this.subscribe((m) => handler(m.text, m));
  }

  /** ON/OFF (or the feed's texts), 1/0, true/false as booleans; anything else is reported. No allocation. */
  onBoolean(handler: (on: boolean, message: Message) => void): void {
    this.subscribe((m) => {
      const b = booleanOf(m, this.texts);
      if (b >= 0) handler(b === 1, m);
      else this.space.report(new FeedError(FeedErrorCode.BadValue, `feed "${this.key}": received "${m.text}", not ${this.texts.on}/${this.texts.off}`));
    });
  }

  /** Values parsed as JSON (allocates); text that is not JSON is reported. */
  onJSON(handler: (value: unknown, message: Message) => void): void {
    this.subscribe((m) => {
      let value: unknown;
      try {
        value = JSON.parse(m.text);
      } catch {
        this.space.report(new FeedError(FeedErrorCode.BadValue, `feed "${this.key}": received "${m.text}", not JSON`));
        return;
      }
      handler(value, m);
    });
  }

  /** Ends the subscription made by subscribe/onNumber/onText/onBoolean/onJSON. */
  unsubscribe(): void {
    this.space.unsubscribe(this.topic);
  }

  private checkedText(value: number | string | boolean): string {
    if (typeof value === "number") checkNumber(value, `feed "${this.key}"`);
    else if (typeof value !== "string" && typeof value !== "boolean")
      throw new FeedError(FeedErrorCode.BadValue, `feed "${this.key}": cannot publish a ${typeof value}`);
    const text = valueText(value, this.texts);
    checkText(text, this.space.maxValueBytes, `feed "${this.key}"`);
    return text;
  }

  private publishForm(value: number | string | boolean | undefined, json: string | undefined, location: Location): number {
    checkLocation(location, `feed "${this.key}"`);
    let v: number | string | undefined;
    if (json !== undefined) checkText(json, this.space.maxValueBytes, `feed "${this.key}"`);
    else {
      const text = this.checkedText(value as number | string | boolean);
      v = typeof value === "number" ? value : text;
    }
    this.jsonTopic ??= this.topic + "/json";
    return this.space.send(this.jsonTopic, jsonForm(v, json, location), this.qos, 1);
  }
}

export default Feed;
