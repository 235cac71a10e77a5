// The one UTF-8 reader/writer: MQTT strings are written and compared as bytes, so publishing a
// string topic or payload never builds an intermediate buffer (XS has no TextEncoder anyway).

/** UTF-8 byte length of `s`, or -1 if MQTT forbids it (a lone surrogate or U+0000, MQTT-1.5.3-1/2). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0) return -1;
      n += 1;
    } else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return -1;
      i++;
      n += 4;
    } else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else n += 3;
  }
  return n;
}

/**
 * UTF-8 bytes `writeUtf8` produces for any string: like utf8Length for well-formed text, but a lone surrogate
 * counts as U+FFFD (3 bytes) and U+0000 is allowed. For payloads, which are bytes, not MQTT strings.
 */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

/**
 * Writes `s` as UTF-8 at `offset`; returns the offset after it. Lone surrogates become U+FFFD (MQTT strings
 * were refused by utf8Length before getting here; payload strings are written as well-formed UTF-8).
 */
export function writeUtf8(buf: Uint8Array, offset: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) { buf[offset++] = c; continue; }
    if (c < 0x800) {
      buf[offset++] = 0xc0 | (c >> 6);
      buf[offset++] = 0x80 | (c & 63);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      buf[offset++] = 0xf0 | (c >> 18);
      buf[offset++] = 0x80 | ((c >> 12) & 63);
      buf[offset++] = 0x80 | ((c >> 6) & 63);
      buf[offset++] = 0x80 | (c & 63);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    buf[offset++] = 0xe0 | (c >> 12);
    buf[offset++] = 0x80 | ((c >> 6) & 63);
    buf[offset++] = 0x80 | (c & 63);
  }
  return offset;
}

/** True if buf[start, end) is well-formed UTF-8 without U+0000 (no overlongs, surrogates or > U+10FFFF). */
export function validUtf8(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b < 0x80) {
      if (b === 0) return false;
      i++;
      continue;
    }
    let need: number, min: number, cp: number;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; cp = b & 0x1f; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; cp = b & 0x0f; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; cp = b & 0x07; }
    else return false;
    if (i + need >= end) return false;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if ((c & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

/** Decodes buf[start, end) (valid UTF-8) to a string. Allocates: only for lazy accessors, never the hot path. */
export function readUtf8(buf: Uint8Array, start: number, end: number): string {
  let s = "";
  let i = start;
  while (i < end) {
    const b = buf[i++];
    let cp: number;
    if (b < 0x80) cp = b;
    else if (b < 0xe0) cp = ((b & 0x1f) << 6) | (buf[i++] & 0x3f);
    else if (b < 0xf0) cp = ((b & 0x0f) << 12) | ((buf[i++] & 0x3f) << 6) | (buf[i++] & 0x3f);
    else cp = ((b & 0x07) << 18) | ((buf[i++] & 0x3f) << 12) | ((buf[i++] & 0x3f) << 6) | (buf[i++] & 0x3f);
    s += String.fromCodePoint(cp);
  }
  return s;
}
