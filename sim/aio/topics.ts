// Adafruit IO topic grammar for the local emulator: what resource a topic names, and which topics
// (and subscription filters) a given user may touch.

/** How a payload is encoded on a topic: bare value, `/json` or `/csv`. */
export type Format = "plain" | "json" | "csv";

export const TIME_TOPICS = ["seconds", "millis", "ISO-8601", "hours"] as const;
export type TimeTopic = (typeof TIME_TOPICS)[number];

/** A topic a client may PUBLISH to, decoded. */
export type ResourceTopic =
  | {
      kind: "feed" | "group";
      user: string;
      /** Feed key (`temp`, or group-qualified `weather.temp`) or group key. */
      key: string;
      /** `f`/`g` instead of `feeds`/`groups`. */
      short: boolean;
      format: Format;
      /** The topic ended in `/get`: a request for the last value, not data. */
      get: boolean;
    }
  | { kind: "errors"; user: string }
  | { kind: "throttle"; user: string }
  | { kind: "time"; name: TimeTopic };

// Keys are system-made, URL-safe: lowercase ASCII letters, digits and dashes. A feed that lives in a
// group other than the default one is addressed as `group-key.feed-key`.
const KEY = /^[a-z0-9-]+$/;

export function isGroupKey(key: string): boolean {
  return KEY.test(key);
}

export function isFeedKey(key: string): boolean {
  const dot = key.indexOf(".");
  if (dot < 0) return KEY.test(key);
  return KEY.test(key.slice(0, dot)) && KEY.test(key.slice(dot + 1));
}

/** Splits `group.feed` into its parts; a feed of the default group has no `group`. */
export function splitFeedKey(key: string): { group?: string; feed: string } {
  const dot = key.indexOf(".");
  return dot < 0 ? { feed: key } : { group: key.slice(0, dot), feed: key.slice(dot + 1) };
}

const TYPES: Record<string, { kind: "feed" | "group"; short: boolean }> = {
  feeds: { kind: "feed", short: false },
  f: { kind: "feed", short: true },
  groups: { kind: "group", short: false },
  g: { kind: "group", short: true },
};

/** Decodes a concrete topic name (no wildcards); undefined if it names no Adafruit IO resource. */
export function parseTopic(topic: string): ResourceTopic | undefined {
  const levels = topic.split("/");
  if (levels[0] === "time") {
    const name = levels[1] as TimeTopic;
    return levels.length === 2 && TIME_TOPICS.includes(name) ? { kind: "time", name } : undefined;
  }
  const [user, type, key] = levels;
  if (!user) return undefined;
  if (levels.length === 2 && (type === "errors" || type === "throttle")) return { kind: type, user };
  const t = TYPES[type ?? ""];
  if (!t || key === undefined || levels.length > 5) return undefined;
  if (t.kind === "feed" ? !isFeedKey(key) : !isGroupKey(key)) return undefined;
  let rest = levels.slice(3);
  let get = false;
  if (rest[rest.length - 1] === "get") { get = true; rest = rest.slice(0, -1); }
  let format: Format = "plain";
  if (rest.length === 1 && (rest[0] === "json" || rest[0] === "csv")) format = rest[0];
  else if (rest.length !== 0) return undefined;
  return { kind: t.kind, user, key, short: t.short, format, get };
}

/** The topic a resource is delivered on, in the given spelling and format. */
export function resourceTopic(user: string, kind: "feed" | "group", key: string, short: boolean, format: Format): string {
  const type = kind === "feed" ? (short ? "f" : "feeds") : (short ? "g" : "groups");
  return `${user}/${type}/${key}${format === "plain" ? "" : "/" + format}`;
}

export type FilterVerdict = "ok" | "not-authorized" | "invalid";

/**
 * Whether `user` may subscribe to `filter`: only their own feeds, groups, errors and throttle
 * topics (wildcards allowed within them), and the shared `time/...` topics.
 */
export function checkSubscription(filter: string, user: string): FilterVerdict {
  const levels = filter.split("/");
  const wild = (s: string | undefined) => s === "+" || s === "#";
  // `#` must be the last level (MQTT 3.1.1 section 4.7.1.2); anything else is malformed.
  if (levels.slice(0, -1).includes("#")) return "invalid";
  if (levels[0] === "time") {
    if (levels.length !== 2) return "invalid";
    return wild(levels[1]) || TIME_TOPICS.includes(levels[1] as TimeTopic) ? "ok" : "invalid";
  }
  if (levels[0] !== user) {
    // Someone else's well-formed topic is "not yours"; anything else is not an IO topic at all.
    if (wild(levels[0]) || !levels[0]) return "invalid";
    return checkSubscription(filter, levels[0]) === "ok" ? "not-authorized" : "invalid";
  }
  const [, type, key, fmt] = levels;
  if (type === "#") return levels.length === 2 ? "ok" : "invalid";
  if (type === "errors" || type === "throttle") return levels.length === 2 ? "ok" : "invalid";
  if (type === "+") return "ok";
  const t = TYPES[type ?? ""];
  if (!t || key === undefined || levels.length > 4) return "invalid";
  if (!wild(key) && !(t.kind === "feed" ? isFeedKey(key) : isGroupKey(key))) return "invalid";
  if (fmt !== undefined && !wild(fmt) && fmt !== "json" && fmt !== "csv") return "invalid";
  return "ok";
}
