// Numbers as decimal text, written into and read from byte buffers without building a string: integers
// exactly, other finite values with up to 6 fractional digits (trailing zeros trimmed). Sensor readings need no
// more. Used for number payloads (codec) and `Message.number`.
import { ErrorCode } from "./errors";

const FRACTION_DIGITS = 6;
const FRACTION_SCALE = 1e6;

function decimalParts(n: number): number {
  // returns scaled absolute value as an integer (value * 1e6), or -1 when too large for exact scaling
  const a = Math.abs(n);
  if (a >= 9e9) return -1;
  return Math.round(a * FRACTION_SCALE);
}

function digitCount(v: number): number {
  let d = 1;
  while (v >= 10) { v = Math.floor(v / 10); d++; }
  return d;
}

/** Characters of `n` as written by writeDecimal; non-finite numbers are not payloads (-1). */
export function decimalLength(n: number): number {
  if (!isFinite(n)) return -1;
  if (Number.isInteger(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER) return (n < 0 ? 1 : 0) + digitCount(Math.abs(n));
  const scaled = decimalParts(n);
  if (scaled < 0) return -1;
  let whole = Math.floor(scaled / FRACTION_SCALE), frac = scaled - whole * FRACTION_SCALE;
  let fd = FRACTION_DIGITS;
  while (fd > 0 && frac % 10 === 0) { frac /= 10; fd--; }
  return (n < 0 && scaled !== 0 ? 1 : 0) + digitCount(whole) + (fd > 0 ? 1 + fd : 0);
}

/** Writes `n` as decimal text (see decimalLength); returns the offset after it. */
export function writeDecimal(buf: Uint8Array, o: number, n: number): number {
  const len = decimalLength(n);
  if (len < 0) return -ErrorCode.BadArgument;
  let whole: number, frac = 0, fd = 0;
  if (Number.isInteger(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER) whole = Math.abs(n);
  else {
    const scaled = decimalParts(n);
    whole = Math.floor(scaled / FRACTION_SCALE);
    frac = scaled - whole * FRACTION_SCALE;
    fd = FRACTION_DIGITS;
    while (fd > 0 && frac % 10 === 0) { frac /= 10; fd--; }
  }
  const end = o + len;
  let p = end;
  for (let k = 0; k < fd; k++) { buf[--p] = 0x30 + (frac % 10); frac = Math.floor(frac / 10); }
  if (fd > 0) buf[--p] = 0x2e;
  do { buf[--p] = 0x30 + (whole % 10); whole = Math.floor(whole / 10); } while (whole > 0);
  if (p > o) buf[--p] = 0x2d;
  return end;
}

/**
 * Parses decimal text in buf[start, end) ("-12", "3.25", "1e3", surrounding spaces allowed) without
 * allocating; NaN if it is not a number.
 */
export function readDecimal(buf: Uint8Array, start: number, end: number): number {
  while (start < end && buf[start] === 0x20) start++;
  while (end > start && buf[end - 1] === 0x20) end--;
  let i = start, sign = 1, value = 0, digits = 0, scale = 0;
  if (i < end && (buf[i] === 0x2d || buf[i] === 0x2b)) { if (buf[i] === 0x2d) sign = -1; i++; }
  while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) { value = value * 10 + (buf[i++] - 0x30); digits++; }
  if (i < end && buf[i] === 0x2e) {
    i++;
    while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) { value = value * 10 + (buf[i++] - 0x30); scale++; digits++; }
  }
  if (digits === 0) return NaN;
  let exp = 0;
  if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    let es = 1, ed = 0;
    if (i < end && (buf[i] === 0x2d || buf[i] === 0x2b)) { if (buf[i] === 0x2d) es = -1; i++; }
    while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) { exp = exp * 10 + (buf[i++] - 0x30); ed++; }
    if (ed === 0) return NaN;
    exp *= es;
  }
  if (i !== end) return NaN;
  const e = exp - scale;
  return sign * (e < 0 ? value / Math.pow(10, -e) : value * Math.pow(10, e));
}
