// A group of feeds published together in one message (`{user}/groups/{key}` on Adafruit IO): several
// sensor values per packet, each counted as one data point by the service and by our rate limiter.
import type { Message } from "../mqtt/message";
import { FeedError, FeedErrorCode } from "./errors";
import { type Location, checkKey, checkLocation, checkNumber, checkText, csvField, valueText } from "./values";
import type { FeedSpace } from "./space";

export interface GroupOptions {
  qos?: 0 | 1 | 2;
  /** Short topic form (`{user}/g/{key}` on Adafruit IO). */
  short?: boolean;
}

export type GroupValues = Record<string, number | string | boolean>;

export class Group {
  readonly key: string;
  /** Where the JSON form goes: `{"feeds":{"key":value,...},"location":{...}}`. */
  readonly topic: string;
  readonly qos: number;
  private readonly space: FeedSpace;
  private csvTopic: string | undefined;

  constructor(space: FeedSpace, key: string, topic: string, options: GroupOptions = {}) {
    this.space = space;
    this.key = key;
    this.topic = topic;
    this.qos = space.checkQos(options.qos, `group "${key}"`);
  }

  /** Publishes several feed values at once (JSON form, allocates); every key and value is checked first. */
  publish(values: GroupValues, location?: Location): number {
    const count = this.check(values, location);
    let out = '{"feeds":{';
    let first = true;
    for (const k in values) {
      const v = values[k];
      out += (first ? "" : ",") + JSON.stringify(k) + ":" + (typeof v === "number" ? String(v) : JSON.stringify(valueText(v, this.space.texts)));
      first = false;
    }
    out += "}";
    if (location) out += ',"location":{"lat":' + location.lat + ',"lon":' + location.lon + (location.ele !== undefined ? ',"ele":' + location.ele : "") + "}";
    return this.space.send(this.topic, out + "}", this.qos, count);
  }

  /** The CSV form on `{topic}/csv`: a `key,value` line per feed, then `location,lat,lon[,ele]`. Allocates. */
  publishCSV(values: GroupValues, location?: Location): number {
    const count = this.check(values, location);
    let out = "";
    for (const k in values) out += (out ? "\n" : "") + csvField(k) + "," + csvField(valueText(values[k], this.space.texts));
    if (location) out += "\nlocation," + location.lat + "," + location.lon + (location.ele !== undefined ? "," + location.ele : "");
    this.csvTopic ??= this.topic + "/csv";
    return this.space.send(this.csvTopic, out, this.qos, count);
  }

  /** Group messages as they arrive (Adafruit IO sends `{"feeds":{...}}` with the values that changed). */
  subscribe(handler: (message: Message) => void): void {
    this.space.subscribe(this.topic, this.qos, handler, true);
  }

  /** Changed feed values as a key -> text map (allocates). */
  onValues(handler: (values: Record<string, string>, message: Message) => void): void {
    this.subscribe((m) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(m.text);
      } catch {
        parsed = undefined;
      }
      const feeds = parsed && typeof parsed === "object" ? ((parsed as { feeds?: unknown }).feeds ?? parsed) : undefined;
      if (!feeds || typeof feeds !== "object") {
        this.space.report(new FeedError(FeedErrorCode.BadValue, `group "${this.key}": received "${m.text}", not {"feeds":{...}}`));
        return;
      }
      const values: Record<string, string> = {};
      for (const k in feeds as Record<string, unknown>) {
        const v = (feeds as Record<string, unknown>)[k];
        values[k] = typeof v === "string" ? v : JSON.stringify(v);
      }
      handler(values, m);
    });
  }

  unsubscribe(): void {
    this.space.unsubscribe(this.topic);
  }

  /** Number of values (the data points this publish costs); throws on any bad key, value or location. */
  private check(values: GroupValues, location: Location | undefined): number {
    if (!values || typeof values !== "object") throw new FeedError(FeedErrorCode.BadValue, `group "${this.key}": values must be an object of feed key -> value`);
    let count = 0;
    for (const k in values) {
      checkKey(k, this.space.keyRule, "group");
      const v = values[k];
      const what = `group "${this.key}" feed "${k}"`;
      if (typeof v === "number") checkNumber(v, what);
      else if (typeof v === "string") checkText(v, this.space.maxValueBytes, what);
      else if (typeof v !== "boolean") throw new FeedError(FeedErrorCode.BadValue, `${what}: cannot publish a ${typeof v}`);
      count++;
    }
    if (count === 0) throw new FeedError(FeedErrorCode.BadValue, `group "${this.key}": no values to publish`);
    if (location !== undefined) checkLocation(location, `group "${this.key}"`);
    return count;
  }
}

export default Group;
