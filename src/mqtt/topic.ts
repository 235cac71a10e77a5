// The one topic matcher: filters and topic names are compared as UTF-8 bytes, level by level,
// with `+`, `#`, the `$`-topic rule (MQTT-4.7.2-1) and `$share/{group}/` filters (matched on their filter part).
import { utf8Length } from "./utf8";

const SLASH = 0x2f, PLUS = 0x2b, HASH = 0x23, DOLLAR = 0x24;

/** UTF-8 length of a topic name for PUBLISH, or -1 if empty, too long, not valid UTF-8 or with a wildcard. */
export function topicNameLength(topic: string): number {
  if (topic.length === 0) return -1;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === PLUS || c === HASH) return -1;
  }
  const n = utf8Length(topic);
  return n > 65535 ? -1 : n;
}

/** UTF-8 length of a topic filter for SUBSCRIBE, or -1 if it is not a valid filter (MQTT-4.7.1). */
export function filterLength(filter: string): number {
  if (filter.length === 0) return -1;
  let start = 0;
  if (filter.startsWith("$share/")) {
    const slash = filter.indexOf("/", 7);
    if (slash <= 7 || slash === filter.length - 1) return -1;
    for (let i = 7; i < slash; i++) {
      const c = filter.charCodeAt(i);
      if (c === PLUS || c === HASH) return -1;
    }
    start = slash + 1;
  }
  for (let i = start; i < filter.length; i++) {
    const c = filter.charCodeAt(i);
    if (c === PLUS || c === HASH) {
      const alone = (i === start || filter.charCodeAt(i - 1) === SLASH) && (i + 1 === filter.length || filter.charCodeAt(i + 1) === SLASH);
      if (!alone) return -1;
      if (c === HASH && i + 1 !== filter.length) return -1;
    }
  }
  const n = utf8Length(filter);
  return n > 65535 ? -1 : n;
}

/** Start of the filter proper: after `$share/{group}/` for a shared subscription, else `fs`. */
function filterStart(f: Uint8Array, fs: number, fe: number): number {
  // "$share/" = 24 73 68 61 72 65 2f
  if (fe - fs > 7 && f[fs] === DOLLAR && f[fs + 1] === 0x73 && f[fs + 2] === 0x68 && f[fs + 3] === 0x61 &&
      f[fs + 4] === 0x72 && f[fs + 5] === 0x65 && f[fs + 6] === SLASH) {
    for (let i = fs + 7; i < fe; i++) if (f[i] === SLASH) return i + 1;
  }
  return fs;
}

/** True if topic name t[ts, te) matches filter f[fs, fe). Both are bytes; nothing is allocated. */
export function topicMatches(f: Uint8Array, fs: number, fe: number, t: Uint8Array, ts: number, te: number): boolean {
  let fi = filterStart(f, fs, fe), ti = ts;
  if (ti < te && t[ti] === DOLLAR && fi < fe && (f[fi] === PLUS || f[fi] === HASH)) return false;
  for (;;) {
    if (fi === fe) return ti === te;
    const c = f[fi];
    if (c === HASH) return true;
    if (c === PLUS) {
      while (ti < te && t[ti] !== SLASH) ti++;
      fi++;
    } else {
      while (fi < fe && f[fi] !== SLASH) {
        if (ti >= te || t[ti] !== f[fi]) return false;
        fi++;
        ti++;
      }
      if (ti < te && t[ti] !== SLASH) return false;
    }
    // Both at the end of a level: a '/' or the end.
    if (fi === fe) return ti === te;
    if (ti === te) return fi + 2 === fe && f[fi + 1] === HASH; // "a/#" also matches "a"
    fi++;
    ti++;
  }
}

/** True if topic bytes t[ts, te) hold U+0001..U+001F or U+007F..U+009F (MQTT 3.1.1 4.7.3: SHOULD NOT appear). */
export function hasControlCharacters(t: Uint8Array, ts: number, te: number): boolean {
  for (let i = ts; i < te; i++) {
    const c = t[i];
    if (c < 0x20 || c === 0x7f) return true;
    if (c === 0xc2 && i + 1 < te && t[i + 1] >= 0x80 && t[i + 1] <= 0x9f) return true; // U+0080..U+009F
  }
  return false;
}
