// The Adafruit IO HTTP API (v2) over the emulator's feed store, for scripts and tools written against io.adafruit.com:
// GET /api/v2/{user}/feeds, /feeds/{key}, /feeds/{key}/data (newest first, limit/start_time/end_time/include,
// X-Pagination-* headers), /feeds/{key}/data/last, and POST /feeds/{key}/data (JSON, form or multipart `value`).
// The key comes in the X-AIO-Key header or the x-aio-key query parameter and is checked when the user has one;
// a POST goes through the emulator's write(), so MQTT subscribers receive it as from IO's own dashboard.
import type { IncomingMessage, ServerResponse } from "node:http";
import { isFeedKey } from "./topics.ts";
import { parseFeedPayload, type DataValue, type StoredPoint } from "./values.ts";
import type { FeedRecord } from "./store.ts";

/** What the API reads and writes: the emulator (AioBroker) fits. */
export interface AioHttpSource {
  feed(user: string, key: string): FeedRecord | undefined;
  feeds(user: string): FeedRecord[];
  write(user: string, key: string, value: DataValue): StoredPoint;
  /** The user's IO key ("" = none configured: no check), undefined for an unknown user. */
  keyOf(user: string): string | undefined;
  /** Largest value in bytes (IO: 1 KB with history on). */
  readonly maxValueBytes?: number;
}

const PREFIX = "/api/v2/";
const MAX_LIMIT = 1000;
const MAX_BODY = 64 * 1024;
const INCLUDABLE = new Set(["value", "lat", "lon", "ele", "id", "created_at"]);

class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/**
 * Serves the request if its path starts with /api/v2/ (answering errors as IO does: a status and `{"error": ...}`);
 * returns false, untouched, for any other path.
 */
export function createAioHttpApi(source: AioHttpSource): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  // IO gives feeds numeric ids; here they are numbered on first sight, stable for the emulator's life.
  const ids = new Map<string, number>();
  const feedId = (user: string, key: string) => {
    const k = `${user}/${key}`;
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size + 1));
    return id;
  };
  const dataJson = (user: string, key: string, p: StoredPoint) => ({
    id: p.id, value: p.value, feed_id: feedId(user, key), feed_key: key, group_id: null, expiration: null,
    lat: p.lat ?? null, lon: p.lon ?? null, ele: p.ele ?? null, completed_at: null,
    created_at: iso(p.at), updated_at: iso(p.at), created_epoch: Math.floor(p.at / 1000),
  });
  const feedJson = (user: string, f: FeedRecord) => ({
    id: feedId(user, f.key), key: f.key, name: f.key, username: user, description: "", unit_type: null, unit_symbol: null,
    history: true, visibility: "private", license: null, enabled: true, status: "online",
    last_value: f.last?.value ?? null, groups: [],
    created_at: iso(f.history[0]?.at ?? f.last?.at ?? 0), updated_at: iso(f.last?.at ?? 0),
  });

  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!url.pathname.startsWith(PREFIX)) return false;
    try {
      const [user, kind, key, ...rest] = url.pathname.slice(PREFIX.length).split("/").map(decodeURIComponent);
      const expected = source.keyOf(user);
      if (expected === undefined) throw new HttpError(404, `not found - no user ${JSON.stringify(user)} on this emulator`);
      const given = req.headers["x-aio-key"] ?? url.searchParams.get("x-aio-key") ?? undefined;
      if (expected !== "" && given !== expected) throw new HttpError(401, "request failed - invalid or missing X-AIO-Key");
      if (kind !== "feeds") throw new HttpError(404, "not found - this emulator serves /api/v2/{user}/feeds only");

      const method = req.method ?? "GET";
      if (key === undefined || key === "") {
        if (method !== "GET") throw new HttpError(405, "only GET on /feeds");
        return send(res, 200, source.feeds(user).map((f) => feedJson(user, f)));
      }
      if (!isFeedKey(key)) throw new HttpError(400, `invalid feed key ${JSON.stringify(key)}`);
      const [sub, last] = rest;
      if (sub === undefined) {
        if (method !== "GET") throw new HttpError(405, "only GET on a feed");
        return send(res, 200, feedJson(user, found(source.feed(user, key), key)));
      }
      if (sub !== "data" || rest.length > 2 || (last !== undefined && last !== "last")) throw new HttpError(404, `not found - ${url.pathname}`);
      if (last === "last") {
        if (method !== "GET") throw new HttpError(405, "only GET on data/last");
        const point = found(source.feed(user, key), key).last;
        if (!point) throw new HttpError(404, `not found - feed ${key} has no data`);
        return send(res, 200, dataJson(user, key, point));
      }
      if (method === "POST") {
        const value = dataValue(await readBody(req), String(req.headers["content-type"] ?? ""));
        const bytes = Buffer.byteLength(value.value);
        const max = source.maxValueBytes ?? 1024;
        if (bytes > max) throw new HttpError(400, `value too large (${bytes} bytes, limit ${max})`);
        return send(res, 200, dataJson(user, key, source.write(user, key, value)));
      }
      if (method !== "GET") throw new HttpError(405, "GET or POST on data");
      return listData(res, url.searchParams, found(source.feed(user, key), key), (p) => dataJson(user, key, p));
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      return send(res, status, { error: (e as Error).message });
    }
  };
}

function listData(res: ServerResponse, q: URLSearchParams, feed: FeedRecord, json: (p: StoredPoint) => Record<string, unknown>): true {
  const limitText = q.get("limit");
  const limit = limitText === null ? MAX_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) throw new HttpError(400, `limit ${limitText}: expected a whole number >= 1`);
  const start = time(q, "start_time"), end = time(q, "end_time");
  const include = q.get("include")?.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = include?.find((f) => !INCLUDABLE.has(f));
  if (bad) throw new HttpError(400, `include ${bad}: expected some of ${[...INCLUDABLE].join(", ")}`);
  const matching = feed.history.filter((p) => (start === undefined || p.at >= start) && (end === undefined || p.at < end));
  const page = matching.slice(-Math.min(limit, MAX_LIMIT)).reverse(); // newest first, as IO answers
  const rows = page.map((p) => {
    const row = json(p);
    return include ? Object.fromEntries(include.map((f) => [f, row[f]])) : row;
  });
  res.setHeader("X-Pagination-Count", String(rows.length));
  res.setHeader("X-Pagination-Limit", String(Math.min(limit, MAX_LIMIT)));
  res.setHeader("X-Pagination-Total", String(matching.length));
  res.setHeader("X-Pagination-Start", start === undefined ? "" : iso(start));
  res.setHeader("X-Pagination-End", iso(end ?? Date.now()));
  return send(res, 200, rows);
}

/** The value and location of a POST body: JSON `{"value": .., "lat": ..}`, or form fields (urlencoded or multipart). */
function dataValue(body: string, type: string): DataValue {
  let fields: unknown;
  if (/^application\/x-www-form-urlencoded/i.test(type)) fields = Object.fromEntries(new URLSearchParams(body));
  else if (/^multipart\/form-data/i.test(type)) fields = multipartFields(body, type);
  else {
    try { fields = JSON.parse(body); } catch { /* answered below */ }
  }
  if (fields === null || typeof fields !== "object" || Array.isArray(fields) || !("value" in fields))
    throw new HttpError(400, 'expected a JSON body {"value": ...} or a form field value');
  const parsed = parseFeedPayload(JSON.stringify(fields), "json");
  if (!parsed.ok) throw new HttpError(400, parsed.reason);
  return parsed.data;
}

/** Text fields of a multipart/form-data body (what `curl -F value=42` sends). */
function multipartFields(body: string, type: string): Record<string, string> {
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!boundary) throw new HttpError(400, "multipart body without a boundary");
  const fields: Record<string, string> = {};
  for (const part of body.split(`--${boundary}`)) {
    const split = part.indexOf("\r\n\r\n");
    if (split < 0) continue;
    const name = /name="([^"]*)"/i.exec(part.slice(0, split))?.[1];
    if (name !== undefined) fields[name] = part.slice(split + 4).replace(/\r\n$/, "");
  }
  return fields;
}

function found(feed: FeedRecord | undefined, key: string): FeedRecord {
  if (!feed) throw new HttpError(404, `not found - feed ${key} does not exist`);
  return feed;
}

function time(q: URLSearchParams, name: string): number | undefined {
  const text = q.get(name);
  if (text === null || text === "") return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new HttpError(400, `${name} ${text}: expected an ISO 8601 date or date-time`);
  return ms;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, `body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: unknown): true {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
  return true;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
