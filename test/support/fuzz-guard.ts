// Shared by the fuzzers: failures counted and the first 20 kept, and a reader that reports reads past what arrived.
import { PushReader } from "../../sim/brokers/server-codec.ts";

/** What a fuzz run counts as failed. */
export interface Failures { failures: string[]; failed: number }

export function fail(t: Failures, msg: string): void {
  t.failed++;
  if (t.failures.length < 20) t.failures.push(msg);
}

/** A reader whose buffer reports any read at or past `stored` (bytes of this packet actually received). */
export function guardedReader(capacity: number, tally: Failures, where: () => string): PushReader {
  const r = new PushReader(capacity);
  const target = r.buf;
  const proxy = new Proxy(target, {
    get(t, k) {
      if (typeof k === "string" && k.length && k.charCodeAt(0) >= 0x30 && k.charCodeAt(0) <= 0x39) {
        const i = Number(k);
        if (i >= r.stored) fail(tally, `${where()}: read buf[${i}] past the ${r.stored} stored bytes`);
        return t[i];
      }
      const v = Reflect.get(t, k, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
  Object.defineProperty(r, "buf", { value: proxy });
  return r;
}
