// Fuzz test of PacketReader + decode in MQTT 5.0 mode: FUZZ5_INPUTS (default 30,000, a few seconds) random and
// mutated v5 packets from a seeded PRNG (FUZZ_SEED=n to replay). The mutations know the property block: they
// repeat, drop, retype and corrupt properties and their lengths as well as bytes. Nothing may throw, every
// failure is a known ErrorCode, nothing is read past the received bytes, the offsets and summary fields of an
// accepted packet agree with its property block, and an accepted packet means the same to mqtt-packet.
import { describe, expect, it } from "vitest";
import mqttPacket from "mqtt-packet";
import type { Packet as MqttPacket } from "mqtt-packet";
import { decode, Packet, PacketType, ReadStatus, writeHeader } from "../src/mqtt/codec.ts";
import { ErrorCode } from "../src/mqtt/errors.ts";
import { findProperty } from "../src/mqtt/properties.ts";
import { fromMqttPacket5, fromOurPacket5, summaryMismatches, varint, walkProperties } from "./support/codec-oracle5.ts";
import { ChunkSource } from "./support/codec-stream.ts";
import { prng, type Rng } from "./support/prng.ts";
import { fail, guardedReader } from "./support/fuzz-guard.ts";
import { PushReader } from "../sim/brokers/server-codec.ts";

const INPUTS = process.env.FUZZ5_INPUTS !== undefined ? Number(process.env.FUZZ5_INPUTS) : 30_000;
if (!Number.isSafeInteger(INPUTS) || INPUTS < 1000) throw new Error(`FUZZ5_INPUTS=${process.env.FUZZ5_INPUTS}: give a whole number of at least 1000`);
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : (Date.now() ^ (Math.random() * 2 ** 32)) >>> 0;


// ---- valid v5 packets from mqtt-packet, the seeds for mutation

const words = ["a", "b", "sensor", "temp", "é", "€", "😀", "", "$SYS", "x".repeat(30)];
function topic(rng: Rng): string {
  let t = "";
  for (let i = 0, n = 1 + rng.int(3); i < n; i++) t += (i ? "/" : "") + rng.pick(words);
  return t === "" ? "t" : t;
}
function bytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}
const maybe = <T>(rng: Rng, v: () => T): T | undefined => (rng.int(2) ? v() : undefined);
function users(rng: Rng): Record<string, string | string[]> | undefined {
  if (rng.int(2)) return undefined;
  return rng.int(3) ? { [rng.pick(words)]: rng.pick(words) } : { k: ["v1", "v2"], [rng.pick(["é", "n"])]: rng.pick(words) };
}
const clean = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function validPacket(rng: Rng): Buffer {
  const id = 1 + rng.int(65535), qos = rng.int(3) as 0 | 1 | 2;
  const reasonProps = () => clean({ reasonString: maybe(rng, () => rng.pick(words)), userProperties: users(rng) });
  const alias = maybe(rng, () => 1 + rng.int(20));
  const pk: MqttPacket[] = [
    { cmd: "publish", topic: alias && rng.int(2) ? "" : topic(rng), payload: bytes(rng, rng.int(20) < 18 ? rng.int(40) : 200 + rng.int(3000)), qos,
      retain: rng.int(2) === 1, dup: qos > 0 && rng.int(2) === 1, messageId: id,
      properties: clean({ payloadFormatIndicator: maybe(rng, () => false), messageExpiryInterval: maybe(rng, () => rng.int(2 ** 32)), topicAlias: alias,
        responseTopic: maybe(rng, () => topic(rng)), correlationData: maybe(rng, () => bytes(rng, rng.int(10))), userProperties: users(rng),
        subscriptionIdentifier: maybe(rng, () => (rng.int(2) ? 1 + rng.int(268435455) : [1 + rng.int(127), 1 + rng.int(20000)])),
        contentType: maybe(rng, () => rng.pick(words)) }) },
    { cmd: "connack", sessionPresent: false, reasonCode: rng.pick([0, 0x80, 0x87, 0x9c]),
      properties: clean({ sessionExpiryInterval: maybe(rng, () => rng.int(1000)), receiveMaximum: maybe(rng, () => 1 + rng.int(100)), maximumQoS: maybe(rng, () => rng.int(2)),
        retainAvailable: maybe(rng, () => rng.int(2) === 1), maximumPacketSize: maybe(rng, () => 1 + rng.int(100000)), assignedClientIdentifier: maybe(rng, () => "auto-1"),
        topicAliasMaximum: maybe(rng, () => rng.int(10)), reasonString: maybe(rng, () => rng.pick(words)), userProperties: users(rng),
        wildcardSubscriptionAvailable: maybe(rng, () => true), subscriptionIdentifiersAvailable: maybe(rng, () => false), sharedSubscriptionAvailable: maybe(rng, () => true),
        serverKeepAlive: maybe(rng, () => rng.int(300)), responseInformation: maybe(rng, () => "r/"), serverReference: maybe(rng, () => "h:1"),
        authenticationMethod: maybe(rng, () => "m"), authenticationData: maybe(rng, () => bytes(rng, 3)) }) },
    { cmd: rng.pick(["puback", "pubrec"] as const), messageId: id, reasonCode: rng.pick([0, 0x10, 0x80, 0x97]), properties: reasonProps() } as MqttPacket,
    { cmd: rng.pick(["pubrel", "pubcomp"] as const), messageId: id, reasonCode: rng.pick([0, 0x92]), ...(rng.int(2) ? { properties: reasonProps() } : {}) } as MqttPacket,
    { cmd: "suback", messageId: id, granted: Array.from({ length: 1 + rng.int(4) }, () => rng.pick([0, 1, 2, 0x80, 0x87, 0xa2])), properties: reasonProps() },
    { cmd: "unsuback", messageId: id, granted: Array.from({ length: 1 + rng.int(4) }, () => rng.pick([0, 0x11, 0x80])), properties: reasonProps() } as MqttPacket,
    { cmd: "disconnect", reasonCode: rng.pick([0, 4, 0x8e, 0x9c]), properties: clean({ ...reasonProps(), sessionExpiryInterval: maybe(rng, () => 5), serverReference: maybe(rng, () => "h") }) },
    { cmd: "auth", reasonCode: rng.pick([0, 0x18, 0x19]), properties: clean({ ...reasonProps(), authenticationMethod: maybe(rng, () => "SCRAM"), authenticationData: maybe(rng, () => bytes(rng, 8)) }) } as MqttPacket,
    { cmd: "pingresp" },
  ];
  return mqttPacket.generate(rng.pick(pk), { protocolVersion: 5 });
}

// ---- mutations

/** Where the property block of a valid v5 packet starts (its length field), or -1 (no block). */
function blockAt(b: number[]): number {
  const type = b[0] >> 4;
  const [len, body] = varint(Uint8Array.from(b), 1);
  if (len === 0) return -1;
  switch (type) {
    case PacketType.PUBLISH: return body + 2 + ((b[body] << 8) | b[body + 1]) + ((b[0] >> 1) & 3 ? 2 : 0);
    case PacketType.CONNACK: return len > 2 ? body + 2 : -1;
    case PacketType.PUBACK: case PacketType.PUBREC: case PacketType.PUBREL: case PacketType.PUBCOMP: return len > 3 ? body + 3 : -1;
    case PacketType.SUBACK: case PacketType.UNSUBACK: return body + 2;
    case PacketType.DISCONNECT: case PacketType.AUTH: return len > 1 ? body + 1 : -1;
    default: return -1;
  }
}

/** Re-writes the remaining length after the body changed size (so the mutation reaches decode). */
function relength(b: number[], delta: number): number[] {
  const [len, body] = varint(Uint8Array.from(b), 1);
  const n = len + delta;
  if (n < 0) return b;
  const head: number[] = [];
  let x = n;
  do { let c = x % 128; x = Math.floor(x / 128); if (x > 0) c |= 128; head.push(c); } while (x > 0);
  return [b[0], ...head, ...b.slice(body)];
}

const ids = [0x01, 0x02, 0x03, 0x08, 0x09, 0x0b, 0x11, 0x12, 0x13, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1c, 0x1f, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
  0x00, 0x04, 0x2b, 0x7f, 0x80, 0xff];

/** A property-aware mutation of `src` (a valid packet, or one already mutated: then maybe nothing changes). */
function mutateProps(rng: Rng, src: number[]): number[] {
  try { return mutateBlock(rng, src); } catch { return src; }
}

function mutateBlock(rng: Rng, src: number[]): number[] {
  let b = src.slice();
  const at = blockAt(b);
  if (at < 0) return b;
  const [plen, s] = varint(Uint8Array.from(b), at);
  const e = s + plen;
  let entries: [number, number][] = []; // [start, end) of each property
  try {
    const found = walkProperties(Uint8Array.from(b), s, e);
    entries = found.map((f, i) => [f.at - 1, i + 1 < found.length ? found[i + 1].at - 1 : e]);
  } catch { return b; }
  const grow = (pos: number, ins: number[]) => {
    b.splice(pos, 0, ...ins);
    // property length and remaining length both grow (a 1-byte property length stays 1 byte below 128)
    if (plen + ins.length < 128) { b[at] = plen + ins.length; b = relength(b, ins.length); }
  };
  switch (rng.int(7)) {
    case 0: if (entries.length) { const [ps, pe] = rng.pick(entries); grow(pe, b.slice(ps, pe)); } break; // repeat a property
    case 1: if (entries.length) { const [ps] = rng.pick(entries); b[ps] = rng.pick(ids); } break; // another id, same bytes
    case 2: grow(e, [rng.pick(ids), ...Array.from(bytes(rng, rng.int(6)))]); break; // a stray property at the end
    case 3: b[at] = rng.pick([0, plen + 1, plen + 5, plen - 1, 0x7f, 0x80, 0xff]); break; // property length lies
    case 4: if (entries.length) { const [ps, pe] = rng.pick(entries); if (pe - ps > 1) b[ps + 1 + rng.int(pe - ps - 1)] = rng.pick([0, 2, 0x80, 0xc3, 0xed, 0xff, rng.int(256)]); } break; // corrupt a value
    case 5: if (entries.length) { const [ps, pe] = rng.pick(entries); b.splice(ps, pe - ps); if (plen < 128) { b[at] = plen - (pe - ps); b = relength(b, -(pe - ps)); } } break; // drop one
    case 6: if (at < b.length) b[at] = rng.pick([0x80, 0xff]); break; // multi-byte / overlong property length
  }
  return b;
}

function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  let b = Array.from(src);
  for (let r = 0, rounds = 1 + rng.int(3); r < rounds; r++) {
    switch (rng.int(8)) {
      case 0: if (b.length) b[rng.int(b.length)] = rng.int(256); break;
      case 1: if (b.length) b[rng.int(b.length)] ^= 1 << rng.int(8); break;
      case 2: b = b.slice(0, rng.int(b.length + 1)); break;
      case 3: { const at = rng.int(b.length + 1); b.splice(at, 0, ...Array.from(bytes(rng, 1 + rng.int(4)))); break; }
      case 4: if (b.length > 1) b[1 + rng.int(Math.min(4, b.length - 1))] = rng.pick([0x00, 0x7f, 0x80, 0xff, rng.int(256)]); break;
      case 5: if (b.length) b[0] = (rng.int(16) << 4) | rng.int(16); break;
      default: b = mutateProps(rng, b); break;
    }
  }
  return Uint8Array.from(b);
}

function input(rng: Rng, corpus: Uint8Array[]): Uint8Array {
  switch (rng.int(6)) {
    case 0: return bytes(rng, rng.int(64));
    case 1: return rng.pick(corpus);
    case 2: return Buffer.concat(Array.from({ length: 2 + rng.int(3) }, () => (rng.int(2) ? mutate(rng, rng.pick(corpus)) : rng.pick(corpus))));
    default: return mutate(rng, rng.pick(corpus)); // mostly mutations: they reach the property checks
  }
}

// ---- the checks

const known = new Set<number>(Object.values(ErrorCode));
interface Tally { inputs: number; packets: number; ok: Record<string, number>; errors: Record<string, number>; failures: string[]; failed: number; compared: number; gaps: Record<string, number> }

/** The spec's reason codes per packet (2.4), as mqtt-packet 9.0.2 has them too. */
const specCodes: Record<number, number[]> = {
  [PacketType.PUBACK]: [0, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99], [PacketType.PUBREC]: [0, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  [PacketType.SUBACK]: [0, 1, 2, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2], [PacketType.UNSUBACK]: [0, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91],
  [PacketType.DISCONNECT]: [0, 4, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b,
    0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2],
};

/**
 * Where we accept what mqtt-packet refuses, knowingly: AUTH with no body (reason 0 left out, 3.15.2.1) and a
 * 3.1.1-style 2-byte CONNACK (a 3.1.1 broker refusing 5.0) are valid; and our decode takes any error code
 * (>= 0x80) in PUBACK/PUBREC/SUBACK/UNSUBACK/DISCONNECT as a failure, even one the spec lists for other packets
 * only ("lenient"). Nothing to compare then. Returns the reason, or "".
 */
function oracleGap(p: Packet, len: number): string {
  if (p.type === PacketType.AUTH && len === 0) return "AUTH without body";
  if (p.type === PacketType.CONNACK && len === 2) return "3.1.1-style CONNACK";
  if (p.type !== PacketType.PINGRESP && p.type !== PacketType.PINGREQ) {
    // mqtt-packet's parser replaces a user property whose first value is "" when its name comes again
    const first = new Map<string, string>(), again = new Set<string>();
    for (const f of walkProperties(p.buf, p.propertiesStart, p.propertiesEnd)) {
      if (f.id !== 0x26) continue;
      const [k, v] = f.value as [string, string];
      if (first.has(k)) again.add(k); else first.set(k, v);
    }
    for (const k of again) if (first.get(k) === "") return "repeated user property with an empty first value";
  }
  const allowed = specCodes[p.type];
  if (!allowed) return "";
  const codes = p.type === PacketType.SUBACK || p.type === PacketType.UNSUBACK ? Array.from(p.buf.subarray(p.payloadStart, p.payloadEnd))
    : (p.type === PacketType.DISCONNECT ? len > 0 : len > 2) ? [p.reasonCode] : [];
  for (const c of codes) {
    if (allowed.includes(c)) continue;
    if (c < 0x80) return ""; // a success code from another packet: never lenient, compare (and fail)
    return `lenient reason code 0x${c.toString(16)} in type ${p.type}`;
  }
  return "";
}

/** JSON with object keys sorted (property order in a block is free; mqtt-packet and we gather them differently). */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}

function checkPacket(t: Tally, r: PushReader, p: Packet, res: number, where: string): void {
  const stored = r.stored;
  const range = (name: string, s: number, e: number) => { if (!(s >= 0 && s <= e && e <= stored)) fail(t, `${where}: ${name} [${s}, ${e}) outside [0, ${stored})`); };
  if (res === -ErrorCode.PacketTooLarge && p.type === PacketType.PUBLISH && p.topicEnd > 0) {
    // a PUBLISH bigger than rxBuffer: what decode says it read (topic, properties) lies in the kept bytes
    range("topic of a truncated PUBLISH", p.topicStart, p.topicEnd);
    range("properties of a truncated PUBLISH", p.propertiesStart, p.propertiesEnd);
    if (p.payloadEnd !== p.payloadStart) fail(t, `${where}: a truncated PUBLISH has a payload`);
  }
  if (res !== 0) return;
  if (p.type !== PacketType.PINGRESP) range("properties", p.propertiesStart, p.propertiesEnd);
  if (p.type === PacketType.PUBLISH) {
    range("topic", p.topicStart, p.topicEnd);
    range("payload", p.payloadStart, p.payloadEnd);
    if (p.payloadStart < p.propertiesEnd) fail(t, `${where}: payload starts inside the properties`);
  }
  if (p.type === PacketType.SUBACK || p.type === PacketType.UNSUBACK) range("codes", p.payloadStart, p.payloadEnd);
  let mine: unknown;
  try {
    const mm = summaryMismatches(p, findProperty);
    if (mm.length) fail(t, `${where}: summary fields disagree with the block: ${mm.join("; ")}`);
    mine = fromOurPacket5(p);
  } catch (e) { fail(t, `${where}: accepted a property block the independent walker refuses: ${(e as Error).message}`); return; }
  const body = r.buf.subarray(0, r.length);
  const gap = oracleGap(p, r.length);
  if (gap) { const k = gap.replace(/ 0x[0-9a-f]+ in type \d+$/, ""); t.gaps[k] = (t.gaps[k] ?? 0) + 1; return; }
  const head = new Uint8Array(5);
  const whole = Buffer.concat([head.subarray(0, writeHeader(head, 0, r.first, r.length)), body]);
  let theirs: unknown;
  try {
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const got: MqttPacket[] = [];
    parser.on("packet", (x) => got.push(x));
    parser.on("error", (e) => { theirs ??= `error ${e.message}`; });
    parser.parse(whole);
    if (theirs === undefined) theirs = got.length === 1 ? fromMqttPacket5(got[0]) : `${got.length} packets`;
  } catch (e) { theirs = `threw ${(e as Error).message}`; }
  t.compared++;
  if (canonical(mine) !== canonical(theirs)) fail(t, `${where}: we accept ${whole.toString("hex")} as ${JSON.stringify(mine)}, mqtt-packet: ${JSON.stringify(theirs)}`);
}

function run(t: Tally, rng: Rng, data: Uint8Array, capacity: number, mode: "push" | "pull", guarded: boolean, where: string): void {
  const here = () => `${where} cap=${capacity} ${mode}`;
  const r = guarded ? guardedReader(capacity, t, here) : new PushReader(capacity);
  const p = new Packet();
  p.v5 = true;
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < data.length;) { const n = 1 + rng.int(rng.int(2) ? 8 : 200); pieces.push(data.subarray(i, i + n)); i += n; }
  const status = (s: number, what: string) => { if (s !== ReadStatus.NeedMore && s !== ReadStatus.Complete && !(s < 0 && known.has(-s))) fail(t, `${here()}: ${what} returned ${s}`); };
  const complete = () => {
    t.packets++;
    const res = decode(r, p);
    status(res, "decode");
    if (res === ReadStatus.Complete) fail(t, `${here()}: decode returned 1`);
    if (res === 0) t.ok[p.type] = (t.ok[p.type] ?? 0) + 1;
    else { const name = Object.entries(ErrorCode).find(([, v]) => v === -res)?.[0] ?? String(res); t.errors[name] = (t.errors[name] ?? 0) + 1; }
    checkPacket(t, r, p, res, here());
  };
  try {
    if (mode === "push") {
      for (const c of pieces) {
        let i = 0;
        while (i < c.length) {
          const s = r.push(c, i, c.length);
          status(s, "push");
          if (!(r.consumed > 0 || s !== ReadStatus.NeedMore)) { fail(t, `${here()}: push made no progress`); return; }
          i += r.consumed;
          if (s === ReadStatus.Complete) complete();
          else if (s < 0) r.reset();
        }
      }
    } else {
      const src = new ChunkSource();
      for (const c of pieces) {
        src.feed(c);
        while (src.available() > 0) {
          const before = src.available();
          const s = r.pull(src);
          status(s, "pull");
          if (s === ReadStatus.Complete) complete();
          else if (s < 0) r.reset();
          else if (src.available() === before) { fail(t, `${here()}: pull made no progress`); return; }
        }
      }
    }
  } catch (e) {
    fail(t, `${here()}: threw ${(e as Error).stack?.split("\n").slice(0, 3).join(" | ")}`);
  }
}

describe("codec fuzz, MQTT 5.0", () => {
  it(`survives ${INPUTS} random and property-mutated v5 inputs (seed ${seed})`, { timeout: 60_000 + INPUTS }, () => {
    console.log(`codec5 fuzz: seed ${seed} (replay with FUZZ_SEED=${seed})`);
    const rng = prng(seed);
    const corpus = Array.from({ length: 400 }, () => new Uint8Array(validPacket(rng)));
    const t: Tally = { inputs: 0, packets: 0, ok: {}, errors: {}, failures: [], failed: 0, compared: 0, gaps: {} };
    const started = Date.now();
    for (let n = 0; n < INPUTS; n++) {
      const data = input(rng, corpus);
      const where = `seed ${seed} input #${n} (${Buffer.from(data.subarray(0, 64)).toString("hex")}${data.length > 64 ? "..." : ""})`;
      run(t, rng, data, rng.pick([64, 4096, 4096, 256, 1, 16]), rng.int(2) ? "push" : "pull", n % 8 === 0, where);
      t.inputs++;
    }
    console.log(`codec5 fuzz: ${t.inputs} inputs, ${t.packets} packets decoded, ${t.compared} accepted ones compared with mqtt-packet in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `ok by type ${JSON.stringify(t.ok)}; errors ${JSON.stringify(t.errors)}; accepted but not compared ${JSON.stringify(t.gaps)}`);
    expect(t.failures, `${t.failed} failures, the first ones`).toEqual([]);
    // The fuzzer must reach the v5 paths, or a green run means nothing.
    for (const type of [2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 15]) expect(t.ok[type] ?? 0, `accepted packets of type ${type}`).toBeGreaterThan(0);
    for (const e of ["MalformedPacket", "BadUtf8", "PacketTooLarge"]) expect(t.errors[e] ?? 0, e).toBeGreaterThan(0);
    expect(t.compared).toBeGreaterThan(INPUTS / 10);
  });

  it("the property mutations yield packets our decoder refuses for their properties (so they test something)", () => {
    const rng = prng(1);
    const corpus = Array.from({ length: 200 }, () => Array.from(validPacket(rng)));
    let refused = 0, tried = 0;
    for (let i = 0; i < 3000; i++) {
      const src = rng.pick(corpus);
      if (blockAt(src) < 0) continue;
      const m = Uint8Array.from(mutateProps(rng, src));
      const r = new PushReader(8192), p = new Packet();
      p.v5 = true;
      if (r.push(m, 0, m.length) !== ReadStatus.Complete) continue;
      tried++;
      if (decode(r, p) < 0) refused++;
    }
    expect(tried).toBeGreaterThan(1000);
    expect(refused / tried).toBeGreaterThan(0.3);
  });
});
