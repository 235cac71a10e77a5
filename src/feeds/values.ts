// What a feed value and key may be, and how values are written in the JSON and CSV forms.
// The plain form needs none of this (numbers and strings go to the client as they are); JSON/CSV allocate.
import type { Message } from "../mqtt/message";
import { utf8Length } from "../mqtt/utf8";
import { FeedError, FeedErrorCode } from "./errors";

/** Where a data point was taken (Adafruit IO keeps it with the value and shows it on map blocks). */
export interface Location {
  lat: number;
  lon: number;
  ele?: number;
}

/** The texts a boolean is published as; Adafruit IO's toggle block uses "ON"/"OFF" by default. */
export interface BooleanTexts {
  on: string;
  off: string;
}

/** Which keys a feed space accepts: Adafruit IO's, or any text usable inside a topic name. */
export type KeyRule = "adafruit" | "topic";

function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45; // a-z 0-9 -
}

function isAioKey(key: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) if (!isKeyChar(key.charCodeAt(i))) return false;
  return true;
}

/** Throws unless `key` is a valid feed key (`group.feed` allowed for Adafruit IO feeds, not for groups). */
export function checkKey(key: string, rule: KeyRule, kind: "feed" | "group"): void {
  if (typeof key !== "string" || key.length === 0) throw new FeedError(FeedErrorCode.BadKey, `${kind} key must be a non-empty string`);
  if (rule === "adafruit") {
    const dot = kind === "feed" ? key.indexOf(".") : -1;
    const ok = dot < 0 ? isAioKey(key, 0, key.length) : isAioKey(key, 0, dot) && isAioKey(key, dot + 1, key.length);
    if (!ok)
      throw new FeedError(FeedErrorCode.BadKey,
        `"${key}" is not an Adafruit IO ${kind} key: use lowercase letters, digits and dashes${kind === "feed" ? " (group.feed for a feed in a group)" : ""}, e.g. "${suggestKey(key)}"`);
    return;
  }
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 43 || c === 35 || c === 0)
      throw new FeedError(FeedErrorCode.BadKey, `${kind} key "${key}" contains "+", "#" or U+0000, which a topic name cannot`);
  }
  if (utf8Length(key) < 0) throw new FeedError(FeedErrorCode.BadKey, `${kind} key "${key}" is not valid UTF-8 text`);
}

/** The key Adafruit IO would derive from a name: lowercase, each run of other characters as one dash. */
export function suggestKey(name: string): string {
  const lower = name.toLowerCase();
  let out = "";
  let gap = false;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (isKeyChar(c) && c !== 45) {
      if (gap && out.length) out += "-";
      out += lower[i];
      gap = false;
    } else gap = true;
  }
  return out || "my-feed";
}

/** Throws unless `value` is finite. */
export function checkNumber(value: number, what: string): void {
  if (!isFinite(value)) throw new FeedError(FeedErrorCode.NotFinite, `${what}: ${value} is not a finite number; nothing was sent`);
}

/** Throws unless the UTF-8 of `text` fits in `max` bytes. */
export function checkText(text: string, max: number, what: string): void {
  const n = utf8Length(text);
  if (n < 0) throw new FeedError(FeedErrorCode.BadValue, `${what}: the value contains U+0000 or a lone surrogate; nothing was sent`);
  if (n > max) throw new FeedError(FeedErrorCode.ValueTooLarge, `${what}: the value is ${n} bytes, more than the ${max}-byte limit; nothing was sent`);
}

export function checkLocation(loc: Location, what: string): void {
  if (!loc || typeof loc !== "object") throw new FeedError(FeedErrorCode.BadValue, `${what}: location must be {lat, lon, ele?}`);
  checkNumber(loc.lat, `${what} lat`);
  checkNumber(loc.lon, `${what} lon`);
  if (loc.ele !== undefined) checkNumber(loc.ele, `${what} ele`);
  if (loc.lat < -90 || loc.lat > 90 || loc.lon < -180 || loc.lon > 180)
    throw new FeedError(FeedErrorCode.BadValue, `${what}: lat ${loc.lat}, lon ${loc.lon} is not on Earth (lat -90..90, lon -180..180)`);
}

/** A value as the text Adafruit IO stores (booleans become the on/off texts). Allocates for numbers. */
export function valueText(value: number | string | boolean, texts: BooleanTexts): string {
  if (typeof value === "boolean") return value ? texts.on : texts.off;
  return typeof value === "number" ? String(value) : value;
}

/** `{"value":..,"lat":..,"lon":..,"ele":..}`: numbers stay JSON numbers, `json` is already-encoded JSON. */
export function jsonForm(value: number | string | undefined, json: string | undefined, loc: Location | undefined): string {
  let out = '{"value":' + (json !== undefined ? json : typeof value === "number" ? String(value) : JSON.stringify(value));
  if (loc) {
    out += ',"lat":' + loc.lat + ',"lon":' + loc.lon;
    if (loc.ele !== undefined) out += ',"ele":' + loc.ele;
  }
  return out + "}";
}

/** One CSV field, quoted when it holds a comma, quote or line break. */
export function csvField(text: string): string {
  let plain = true;
  for (let i = 0; i < text.length && plain; i++) {
    const c = text.charCodeAt(i);
    if (c === 44 || c === 34 || c === 10 || c === 13) plain = false;
  }
  if (plain) return text;
  return '"' + text.split('"').join('""') + '"';
}

/** `value[,lat,lon[,ele]]` as Adafruit IO's `/csv` topics take it. */
export function csvForm(text: string, loc: Location | undefined): string {
  let out = csvField(text);
  if (loc) {
    out += "," + loc.lat + "," + loc.lon;
    if (loc.ele !== undefined) out += "," + loc.ele;
  }
  return out;
}

/** 1 for the on text, "1", "true"; 0 for the off text, "0", "false"; -1 otherwise. No allocation. */
export function booleanOf(message: Message, texts: BooleanTexts): number {
  if (message.textIs(texts.on) || message.textIs("1") || message.textIs("true")) return 1;
  if (message.textIs(texts.off) || message.textIs("0") || message.textIs("false")) return 0;
  return -1;
}
