// Adafruit IO payload forms for the emulator: parses what devices publish (bare value, IO JSON
// `{"value":..,"lat":..}`, CSV `value,lat,lon,ele`, group JSON/CSV) and renders what subscribers receive.
import type { Format } from "./topics.ts";

/** One data point as Adafruit IO stores it: the value is always text. */
export interface DataValue {
  value: string;
  lat?: number;
  lon?: number;
  ele?: number;
}

export interface Location { lat?: number; lon?: number; ele?: number }

export type Parsed<T> = { ok: true; data: T } | { ok: false; reason: string };

const fail = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function location(src: Record<string, unknown>): Location {
  const loc: Location = {};
  const lat = num(src.lat), lon = num(src.lon), ele = num(src.ele);
  if (lat !== undefined) loc.lat = lat;
  if (lon !== undefined) loc.lon = lon;
  if (ele !== undefined) loc.ele = ele;
  return loc;
}

/** Text of a JSON value the way IO keeps it: strings as they are, anything else re-encoded compactly. */
function valueText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === "string" ? v : JSON.stringify(v);
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits one CSV line, honouring double-quoted fields with `""` escapes. */
export function splitCsv(line: string): string[] {
  const out: string[] = [];
  let field = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") { out.push(field); field = ""; }
    else field += c;
  }
  out.push(field);
  return out;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A feed publish. IO unwraps a JSON object that has a `value` key (on the bare or `/json` topic) and
 * keeps anything else - numbers, text, JSON without `value`, double-encoded JSON - as plain text.
 */
export function parseFeedPayload(text: string, format: Format): Parsed<DataValue> {
  if (format === "csv") {
    const [value = "", lat, lon, ele] = splitCsv(text.trim());
    if (value === "") return fail("missing value");
    return { ok: true, data: { value, ...location({ lat, lon, ele }) } };
  }
  const obj = text.trimStart().startsWith("{") ? parseJsonObject(text) : undefined;
  if (format === "json" && !obj) return fail("invalid JSON");
  if (obj && "value" in obj) {
    const value = valueText(obj.value);
    if (value === undefined) return fail("missing value");
    return { ok: true, data: { value, ...location(obj) } };
  }
  if (text === "") return fail("missing value");
  return { ok: true, data: { value: text } };
}

export interface GroupData { values: Array<{ feed: string; value: string }>; location: Location }

/**
 * A group publish: JSON `{"feeds": {"key": value, ...}, "location": {...}}` (also the short form
 * without the `feeds` wrapper), or CSV lines `key,value` plus an optional `location,lat,lon[,ele]`.
 */
export function parseGroupPayload(text: string, format: Format): Parsed<GroupData> {
  const values: GroupData["values"] = [];
  let loc: Location = {};
  if (format === "csv") {
    for (const line of text.split(/\r?\n/)) {
      if (line.trim() === "") continue;
      const [key = "", value, ...rest] = splitCsv(line.trim());
      if (key === "location") loc = location({ lat: value, lon: rest[0], ele: rest[1] });
      else if (value === undefined || value === "") return fail(`missing value for ${key}`);
      else values.push({ feed: key, value });
    }
  } else {
    const obj = parseJsonObject(text);
    if (!obj) return fail("invalid JSON");
    const feeds = obj.feeds !== null && typeof obj.feeds === "object" ? (obj.feeds as Record<string, unknown>) : obj;
    for (const [feed, v] of Object.entries(feeds)) {
      if (feeds === obj && feed === "location") continue;
      const value = valueText(v);
      if (value === undefined) return fail(`missing value for ${feed}`);
      values.push({ feed, value });
    }
    if (obj.location !== null && typeof obj.location === "object") loc = location(obj.location as Record<string, unknown>);
  }
  if (values.length === 0) return fail("no feed values");
  return { ok: true, data: { values, location: loc } };
}

/** What a feed subscriber receives on the given format. */
export interface StoredPoint extends DataValue { id: string; at: number }

export function renderFeed(point: StoredPoint, key: string, format: Format): string {
  if (format === "plain") return point.value;
  if (format === "csv") {
    const opt = (n?: number) => (n === undefined ? "" : String(n));
    const fields = [csvField(point.value), opt(point.lat), opt(point.lon), opt(point.ele)];
    while (fields.length > 1 && fields[fields.length - 1] === "") fields.pop();
    return fields.join(",");
  }
  return JSON.stringify({
    id: point.id,
    value: point.value,
    feed_key: key,
    created_at: new Date(point.at).toISOString(),
    created_epoch: Math.floor(point.at / 1000),
    ...(point.lat !== undefined ? { lat: point.lat } : {}),
    ...(point.lon !== undefined ? { lon: point.lon } : {}),
    ...(point.ele !== undefined ? { ele: point.ele } : {}),
  });
}

/** What a group subscriber receives: only the feeds that just changed, values as strings. */
export function renderGroup(values: GroupData["values"], loc: Location, format: Format): string {
  const hasLoc = loc.lat !== undefined || loc.lon !== undefined || loc.ele !== undefined;
  if (format === "csv") {
    const lines = values.map((v) => `${csvField(v.feed)},${csvField(v.value)}`);
    if (hasLoc) lines.push(["location", loc.lat ?? "", loc.lon ?? "", ...(loc.ele !== undefined ? [loc.ele] : [])].join(","));
    return lines.join("\n");
  }
  const feeds: Record<string, string> = {};
  for (const v of values) feeds[v.feed] = v.value;
  return JSON.stringify(hasLoc ? { feeds, location: loc } : { feeds });
}
