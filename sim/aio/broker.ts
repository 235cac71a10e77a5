// A local, in-process stand-in for the Adafruit IO MQTT service (aedes on a loopback port) with its
// topic, auth, rate-limit and QoS rules, and an in-memory feed history; used by tests and `npm start`.
//
// Behaviour mirrored from Adafruit IO's MQTT documentation (restated, not quoted):
// - username = IO user, password = IO key; anything else gets CONNACK 5 "not authorized". IO's docs do
//   not name the code; 5 is what DESIGN.md specifies and aedes' default refusal (3.1.1's 4 means
//   "malformed user name or password"). IO's own 6/7 (throttled/banned connect) are not emulated.
// - Topics: `{user}/feeds/{key}` and `{user}/f/{key}`, each with optional `/json` or `/csv`; groups
//   `{user}/groups/{key}` and `{user}/g/{key}` (JSON by default, or `/json`, `/csv`); `{user}/errors`,
//   `{user}/throttle` and `time/seconds|millis|ISO-8601|hours` can only be subscribed to. Keys are
//   lowercase letters, digits and dashes (`group.feed` for a feed in a group). Unknown feeds are created
//   on first publish. A user may only touch their own topics plus `time/...`.
// - Every stored value is sent out on all of a feed's paths (bare, /json, /csv, long and short form),
//   and to its group's topics; JSON renderings are regenerated, values are always strings.
// - Retain is not supported (the flag is dropped); `{topic}/get` sends the last value to the asker only.
// - QoS 0 and 1 only. IO does not say how it reacts to QoS 2; we treat a QoS 2 PUBLISH as a protocol
//   error like other QoS-0/1-only brokers (report on `{user}/errors`, drop it, close the connection)
//   and grant QoS 1 to a QoS 2 SUBSCRIBE (a server may always grant less than asked).
// - Data rate: 30 points per rolling minute on free accounts; a group publish counts one per feed.
//   Over the limit a point is discarded and `{user} data rate limit reached, N seconds until throttle
//   released` goes to `{user}/throttle`.
// - Bad topics, refused subscriptions, oversize values (> 1 KB) are dropped and reported on
//   `{user}/errors` as `CLIENT_ID IP ACTION TOPIC rejected, reason`. 10 violations (rejections or
//   throttled points) within a minute ban the user: 30 s, times the number of bans in the last hour,
//   at most an hour; announced on `{user}/errors`, and every publish/subscribe is refused meanwhile.
// - `restart()` behaves like a broker restart without persistence: history stays, MQTT sessions
//   (subscriptions, queued QoS 1 messages) are lost, so clients must resubscribe.
import type { Socket } from "node:net";
import { readFileSync, rmSync } from "node:fs";
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from "aedes";
import type { Clock } from "../../hosts/node/board.ts";
import { realClock } from "../board/clock.ts";
import { AedesListener } from "../brokers/aedes-listener.ts";
import { TestCA } from "../brokers/tls-certs.ts";
import { checkSubscription, isFeedKey, isGroupKey, parseTopic, resourceTopic, splitFeedKey, type Format, type ResourceTopic } from "./topics.ts";
import { parseFeedPayload, parseGroupPayload, renderFeed, renderGroup, type DataValue, type Location } from "./values.ts";
import { FeedStore, type FeedRecord, type StoredPoint } from "./store.ts";
import { Limits } from "./limits.ts";

export type { DataValue, FeedRecord, StoredPoint };

export interface AioBrokerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on; default "127.0.0.1". */
  host?: string;
  /** IO username -> IO key. */
  users: Record<string, string>;
  /** Data points per user per window; default 30 (a free account). */
  rateLimitPerMinute?: number;
  /** Length of the rate-limit window in ms; default 60 000. Shorten it in tests. */
  rateWindowMs?: number;
  /** Violations within one window that ban the user; default 10, 0 disables bans. */
  banAfter?: number;
  /** Length of a first ban in ms; default 30 000. */
  banMs?: number;
  /** Largest value in bytes; default 1024. */
  maxValueBytes?: number;
  /** Publish `time/...` topics; default true. */
  timeTopics?: boolean;
  /** Period of the `time/...` ticks in ms; default 1000. */
  timeIntervalMs?: number;
  /** Time source for ticks, rate limits and bans; default the real clock. */
  clock?: Clock;
  /** Unix time in ms that `clock.now()` at start corresponds to; default `Date.now()`. */
  epochMs?: number;
  /** Points kept per feed; default 1000. */
  historyLimit?: number;
  /**
   * Also listen with TLS, as io.adafruit.com does on 8883: true makes a CA and a certificate for 127.0.0.1 and
   * localhost with openssl; `port` picks the TLS port (default: a free one).
   */
  tls?: boolean | { port?: number };
}

/** The emulator's TLS listener and the CA that signed its certificate (give it to the clients: `ca`/`certificate`). */
export interface AioBrokerTls {
  readonly port: number;
  /** `mqtts://host:port`. */
  readonly url: string;
  /** The CA's certificate, DER (a Moddable `certificate` or DER resource) and PEM (MQTT.js's `ca`, a PEM resource). */
  readonly caDer: Uint8Array;
  readonly caPem: string;
}

export interface PublishEvent { user: string; key: string; point: StoredPoint; clientId: string }
export interface ClientEvent { user: string; clientId: string; connected: boolean }
export interface NoticeEvent { user: string; message: string }

export interface AioBrokerEvents {
  /** A data point was stored (after all checks passed). */
  publish: PublishEvent;
  /** An authenticated client connected or went away. */
  client: ClientEvent;
  /** A throttle notice was sent on `{user}/throttle`. */
  throttle: NoticeEvent;
  /** An error notice was sent on `{user}/errors`. */
  error: NoticeEvent;
}

export interface AioBrokerCounters {
  connects: number;
  authFailures: number;
  /** PUBLISH packets received from clients (including refused ones). */
  publishes: number;
  /** Data points stored. */
  stored: number;
  /** Data points discarded by the rate limit. */
  throttled: number;
  /** PUBLISH packets refused (bad topic, oversize, QoS 2, banned...). */
  rejected: number;
  /** SUBSCRIBE topics refused with 0x80. */
  refusedSubscriptions: number;
  /** `/get` requests served. */
  gets: number;
  bans: number;
}

export interface AioBroker {
  readonly port: number;
  readonly host: string;
  /** `mqtt://host:port`. */
  readonly url: string;
  /** With `tls`: the TLS listener and its CA. */
  readonly tls: AioBrokerTls | undefined;
  /** Live counters (the same object, updated in place). */
  readonly counters: AioBrokerCounters;
  /** The feed's record, or undefined if nothing was ever stored to it. */
  feed(user: string, key: string): FeedRecord | undefined;
  /** All feeds of a user, sorted by key. */
  feeds(user: string): FeedRecord[];
  /** Writes a table of the user's feed history (to stdout unless `write` is given) and returns it. */
  printHistory(user: string, write?: (text: string) => void): string;
  /**
   * Stores a value and sends it to the feed's subscribers as the dashboard or HTTP API would: no topic
   * or rate checks. `key` may be group-qualified (`group.feed`).
   */
  write(user: string, key: string, value: string | DataValue): StoredPoint;
  /** Adds a user (or changes their key) while running. */
  addUser(user: string, key: string): void;
  /** The user's IO key ("" when none is set), undefined for a user the broker does not know (the HTTP API checks it). */
  keyOf(user: string): string | undefined;
  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends keyof AioBrokerEvents>(event: E, fn: (e: AioBrokerEvents[E]) => void): () => void;
  /** Drops every client and stops listening, stays down `downMs`, then listens on the same port; history is kept. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Stops ticks, drops every client and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Makes SUBACK grant QoS 1 where a client asks for 2. aedes routes with the QoS that authorizeSubscribe
 * returns but still echoes the requested QoS in SUBACK, so the SUBSCRIBE is lowered before aedes sees
 * it, via the client's packet parser (a private aedes field; without it SUBACK would say 2).
 */
function grantAtMostQos1(client: Client): void {
  const parser = (client as unknown as { _parser?: NodeJS.EventEmitter })._parser;
  parser?.prependListener("packet", (packet: { cmd: string; subscriptions?: Subscription[] }) => {
    if (packet.cmd !== "subscribe") return;
    for (const sub of packet.subscriptions ?? []) if (sub.qos > 1) sub.qos = 1;
  });
}

const SINK = "$aio/ingested"; // where accepted client PUBLISHes are parked once we have routed them ourselves
const FORMATS: Format[] = ["plain", "json", "csv"];

export async function startAioBroker(options: AioBrokerOptions): Promise<AioBroker> {
  const host = options.host ?? "127.0.0.1";
  const clock = options.clock ?? realClock;
  const clockStart = clock.now();
  const epochStart = options.epochMs ?? Date.now();
  const wallNow = () => epochStart + (clock.now() - clockStart);
  const maxValueBytes = options.maxValueBytes ?? 1024;
  const keys = new Map(Object.entries(options.users));
  const store = new FeedStore(options.historyLimit);
  const limits = new Limits({
    ratePerWindow: options.rateLimitPerMinute ?? 30,
    windowMs: options.rateWindowMs ?? 60_000,
    banAfter: options.banAfter ?? 10,
    banMs: options.banMs ?? 30_000,
  });
  const counters: AioBrokerCounters = {
    connects: 0, authFailures: 0, publishes: 0, stored: 0, throttled: 0, rejected: 0, refusedSubscriptions: 0, gets: 0, bans: 0,
  };
  const listeners: { [E in keyof AioBrokerEvents]: Set<(e: AioBrokerEvents[E]) => void> } = {
    publish: new Set(), client: new Set(), throttle: new Set(), error: new Set(),
  };
  const emit = <E extends keyof AioBrokerEvents>(event: E, e: AioBrokerEvents[E]) => {
    for (const fn of listeners[event]) fn(e);
  };
  const userOf = new WeakMap<Client, string>();

  let closed = false;

  // --- sending ---------------------------------------------------------------------------------
  const send = (topic: string, payload: string, qos: 0 | 1 = 0) => {
    const broker = listener.broker;
    if (!broker || broker.closed) return;
    broker.publish({ cmd: "publish", topic, payload: Buffer.from(payload), qos, retain: false, dup: false }, () => {});
  };
  const reportError = (user: string, message: string) => {
    send(`${user}/errors`, message);
    emit("error", { user, message });
  };
  const describe = (client: Client, action: string, topic: string, reason: string) =>
    `${client.id} ${(client.conn as Socket).remoteAddress ?? "-"} ${action} ${topic} rejected, ${reason}`;
  const violation = (user: string) => {
    const ban = limits.violation(user, clock.now());
    if (ban > 0) {
      counters.bans++;
      reportError(user, `enforcement limit reached, your account is banned for ${Math.round(ban / 1000)} seconds`);
    }
  };

  /** Sends a stored feed point on every path of the feed. */
  const deliverFeed = (user: string, key: string, point: StoredPoint, qos: 0 | 1) => {
    for (const short of [false, true]) {
      for (const format of FORMATS) send(resourceTopic(user, "feed", key, short, format), renderFeed(point, key, format), qos);
    }
  };
  const deliverGroup = (user: string, group: string, values: Array<{ feed: string; value: string }>, loc: Location, qos: 0 | 1) => {
    for (const short of [false, true]) {
      for (const format of FORMATS) send(resourceTopic(user, "group", group, short, format), renderGroup(values, loc, format), qos);
    }
  };

  // --- `/get` ----------------------------------------------------------------------------------
  const answerGet = (client: Client, user: string, t: Extract<ResourceTopic, { kind: "feed" | "group" }>, qos: 0 | 1) => {
    let payload: string | undefined;
    if (t.kind === "feed") {
      const last = store.feed(user, t.key)?.last;
      if (last) payload = renderFeed(last, t.key, t.format);
    } else {
      const values = store.feeds(user)
        .filter((f) => f.last && splitFeedKey(f.key).group === t.key)
        .map((f) => ({ feed: splitFeedKey(f.key).feed, value: f.last!.value }));
      if (values.length > 0) payload = renderGroup(values, {}, t.format === "plain" ? "json" : t.format);
    }
    if (payload === undefined) return; // nothing stored yet: nothing to repeat
    counters.gets++;
    client.publish({ cmd: "publish", topic: resourceTopic(user, t.kind, t.key, t.short, t.format), payload: Buffer.from(payload), qos, retain: false, dup: false }, () => {});
  };

  // --- aedes hooks -------------------------------------------------------------------------------
  const authenticate = (client: Client, username: string | undefined, password: Buffer | undefined, done: (e: AuthenticateError | null, ok: boolean | null) => void) => {
    const key = username === undefined ? undefined : keys.get(username);
    if (username !== undefined && key !== undefined && password !== undefined && password.toString("utf8") === key) {
      userOf.set(client, username);
      return done(null, true);
    }
    counters.authFailures++;
    done(Object.assign(new Error("not authorized"), { returnCode: 5 as AuthenticateError["returnCode"] }), false);
  };

  const authorizePublish = (client: Client | null, packet: PublishPacket, done: (e?: Error | null) => void) => {
    const user = client ? userOf.get(client) : undefined;
    if (!client || !user) return done(new Error("not authenticated"));
    counters.publishes++;
    const topic = packet.topic;
    const now = clock.now();
    const park = () => {
      // Our own deliveries replace the original; retain is never honoured.
      packet.topic = SINK;
      packet.retain = false;
      done(null);
    };
    const reject = (reason: string, countsAsViolation = true) => {
      counters.rejected++;
      reportError(user, describe(client, "PUBLISH", topic, reason));
      if (countsAsViolation) violation(user);
      park();
    };

    const banned = limits.bannedFor(user, now);
    if (banned > 0) return reject("user is temporarily blocked", false);
    if (packet.qos === 2) {
      counters.rejected++;
      reportError(user, describe(client, "PUBLISH", topic, "QoS 2 is not supported"));
      violation(user);
      return done(new Error("QoS 2 is not supported"));
    }
    const qos = packet.qos as 0 | 1;
    const t = parseTopic(topic);
    if (!t) return reject("not a valid resource topic");
    if (t.kind === "time") return reject("time topics are read-only");
    if (t.user !== user) return reject("resource not available or not authorized");
    if (t.kind === "errors" || t.kind === "throttle") return reject(`${t.kind} topic is read-only`);
    if (t.get) {
      answerGet(client, user, t, qos);
      return park();
    }

    const text = packet.payload.toString();
    let points: Array<{ key: string; value: DataValue }>;
    let groupLocation: Location = {};
    if (t.kind === "feed") {
      const parsed = parseFeedPayload(text, t.format);
      if (!parsed.ok) return reject(parsed.reason);
      points = [{ key: t.key, value: parsed.data }];
    } else {
      const parsed = parseGroupPayload(text, t.format);
      if (!parsed.ok) return reject(parsed.reason);
      const bad = parsed.data.values.find((v) => !isGroupKey(v.feed));
      if (bad) return reject(`invalid feed key ${JSON.stringify(bad.feed)}`);
      groupLocation = parsed.data.location;
      points = parsed.data.values.map((v) => ({ key: `${t.key}.${v.feed}`, value: { value: v.value, ...groupLocation } }));
    }
    const big = points.find((p) => Buffer.byteLength(p.value.value) > maxValueBytes);
    if (big) return reject(`value too large (${Buffer.byteLength(big.value.value)} bytes, limit ${maxValueBytes})`);

    const accepted: typeof points = [];
    let waitMs = -1;
    for (const p of points) {
      const take = limits.takePoint(user, now);
      if (take.ok) accepted.push(p);
      else { counters.throttled++; waitMs = Math.max(waitMs, take.waitMs); }
    }
    if (waitMs >= 0) {
      const message = `${user} data rate limit reached, ${Math.ceil(waitMs / 1000)} seconds until throttle released`;
      send(`${user}/throttle`, message);
      emit("throttle", { user, message });
      violation(user);
    }

    storePoints(user, accepted, t.kind === "group" ? groupLocation : points[0].value, qos, client.id);
    park();
  };

  /** Stores accepted points and sends them on their feed topics, and once per group on the group topics. */
  function storePoints(user: string, accepted: Array<{ key: string; value: DataValue }>, loc: Location, qos: 0 | 1, clientId: string): StoredPoint[] {
    const at = wallNow();
    const stored: StoredPoint[] = [];
    const byGroup = new Map<string, Array<{ feed: string; value: string }>>();
    for (const p of accepted) {
      const point = store.add(user, p.key, p.value, at);
      stored.push(point);
      counters.stored++;
      deliverFeed(user, p.key, point, qos);
      const { group, feed } = splitFeedKey(p.key);
      if (group) {
        if (!byGroup.has(group)) byGroup.set(group, []);
        byGroup.get(group)!.push({ feed, value: point.value });
      }
      emit("publish", { user, key: p.key, point, clientId });
    }
    for (const [group, values] of byGroup) deliverGroup(user, group, values, { lat: loc.lat, lon: loc.lon, ele: loc.ele }, qos);
    return stored;
  }

  const authorizeSubscribe = (client: Client, sub: Subscription, done: (e: Error | null, s?: Subscription | null) => void) => {
    const user = userOf.get(client);
    if (!user) return done(null, null);
    const refuse = (reason: string, countsAsViolation = true) => {
      counters.refusedSubscriptions++;
      reportError(user, describe(client, "SUBSCRIBE", sub.topic, reason));
      if (countsAsViolation) violation(user);
      done(null, null); // SUBACK 0x80 for this topic, the connection stays up
    };
    if (limits.bannedFor(user, clock.now()) > 0) return refuse("user is temporarily blocked", false);
    const verdict = checkSubscription(sub.topic, user);
    if (verdict === "not-authorized") return refuse("resource not available or not authorized");
    if (verdict === "invalid") return refuse("not a valid resource topic");
    if (sub.qos > 1) sub.qos = 1;
    done(null, sub);
  };

  // --- listening ---------------------------------------------------------------------------------
  const create = async () => {
    const b = await Aedes.createBroker({ authenticate, authorizePublish, authorizeSubscribe, heartbeatInterval: 3_600_000 });
    b.on("clientReady", (client) => {
      const user = userOf.get(client);
      if (!user) return;
      counters.connects++;
      emit("client", { user, clientId: client.id, connected: true });
    });
    b.on("clientDisconnect", (client) => {
      const user = userOf.get(client);
      if (user) emit("client", { user, clientId: client.id, connected: false });
    });
    return b;
  };
  const ca = options.tls ? new TestCA("xsmq local Adafruit IO emulator CA") : undefined;
  const certificate = ca?.issue("aio", { dns: ["localhost"], ips: [host === "localhost" ? "127.0.0.1" : host] });
  const listener = new AedesListener(host, options.port ?? 0, create, grantAtMostQos1, certificate && {
    port: typeof options.tls === "object" ? options.tls.port : undefined,
    cert: readFileSync(certificate.chainFile), key: readFileSync(certificate.keyFile),
  });
  const tls: AioBrokerTls | undefined = ca && {
    get port() { return listener.tlsPort; },
    get url() { return `mqtts://${host}:${listener.tlsPort}`; },
    caDer: ca.der,
    caPem: ca.pem,
  };

  // --- time topics ---------------------------------------------------------------------------------
  let tick: unknown;
  let lastHour = new Date(wallNow()).getUTCHours();
  const timeIntervalMs = options.timeIntervalMs ?? 1000;
  const onTick = () => {
    const ms = wallNow();
    send("time/seconds", String(Math.floor(ms / 1000)));
    send("time/millis", String(ms));
    send("time/ISO-8601", new Date(ms).toISOString());
    const hour = new Date(ms).getUTCHours();
    if (hour !== lastHour) send("time/hours", String(hour)); // once an hour, when the hour turns
    lastHour = hour;
    tick = clock.schedule(onTick, timeIntervalMs);
  };

  await listener.start();
  if (options.timeTopics !== false) tick = clock.schedule(onTick, timeIntervalMs);

  return {
    get port() { return listener.port; },
    host,
    get url() { return `mqtt://${host}:${listener.port}`; },
    tls,
    counters,
    feed: (user, key) => store.feed(user, key),
    feeds: (user) => store.feeds(user),
    printHistory(user, write = (text) => void process.stdout.write(text)) {
      const text = store.table(user);
      write(text);
      return text;
    },
    write(user, key, value) {
      if (!isFeedKey(key)) throw new Error(`invalid feed key ${JSON.stringify(key)}`);
      const data = typeof value === "string" ? { value } : value;
      return storePoints(user, [{ key, value: data }], data, 0, "(server)")[0];
    },
    addUser(user, key) { keys.set(user, key); },
    keyOf: (user) => keys.get(user),
    on(event, fn) {
      listeners[event].add(fn);
      return () => { listeners[event].delete(fn); };
    },
    async restart({ downMs = 0 } = {}) {
      if (closed) throw new Error("AIO broker is closed");
      await listener.stop();
      if (downMs > 0) await new Promise<void>((r) => clock.schedule(r, downMs));
      if (!closed) await listener.start();
    },
    async close() {
      closed = true;
      if (tick !== undefined) clock.cancel(tick);
      tick = undefined;
      await listener.stop();
      if (ca) rmSync(ca.dir, { recursive: true, force: true });
    },
  };
}
