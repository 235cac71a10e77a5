// Fuzz test of PacketReader + decode: FUZZ_INPUTS (default 100,000) random and mutated packets per run from a
// seeded PRNG (FUZZ_SEED=n to replay; bench/fuzz.bench.ts runs 10^6). Nothing may throw, every failure is a known ErrorCode, offsets stay inside what
// was received, the reader never reads past its input, and every packet we accept means the same to mqtt-packet.
import { describe, expect, it } from "vitest";
import mqttPacket from "mqtt-packet";
import type { Packet as MqttPacket } from "mqtt-packet";
import { decode, Packet, PacketReader, PacketType, ReadStatus, writeHeader } from "../src/mqtt/codec.ts";
import { ErrorCode } from "../src/mqtt/errors.ts";
import { filterEntries, fromMqttPacket, fromOurPacket } from "./support/codec-oracle.ts";
import { ChunkSource } from "./support/codec-stream.ts";
import { prng, type Rng } from "./support/prng.ts";
import { fail, guardedReader } from "./support/fuzz-guard.ts";
import { PushReader, ServerPacket, decodeAny } from "../sim/brokers/server-codec.ts";

const INPUTS = process.env.FUZZ_INPUTS !== undefined ? Number(process.env.FUZZ_INPUTS) : 100_000;
if (!Number.isSafeInteger(INPUTS) || INPUTS < 1000) throw new Error(`FUZZ_INPUTS=${process.env.FUZZ_INPUTS}: give a whole number of at least 1000`);
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : (Date.now() ^ (Math.random() * 2 ** 32)) >>> 0;


// ---- valid packets from mqtt-packet, the seeds for mutation

const words = ["a", "b", "sensor", "temp", "é", "€", "😀", "", "$SYS", "feeds", "x".repeat(30)];
function topic(rng: Rng): string {
  const n = 1 + rng.int(4);
  let t = "";
  for (let i = 0; i < n; i++) t += (i ? "/" : "") + rng.pick(words);
  return t === "" ? "t" : t;
}
function filter(rng: Rng): string {
  const t = topic(rng).split("/").map((l) => (rng.int(4) === 0 ? "+" : l));
  if (rng.int(3) === 0) t.push("#");
  return t.join("/");
}
function bytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}
function payloadSize(rng: Rng): number {
  const r = rng.int(20);
  return r < 14 ? rng.int(40) : r < 19 ? rng.int(300) : 1000 + rng.int(5000); // some exceed 64 and 4096
}
function validPacket(rng: Rng): Buffer {
  const id = 1 + rng.int(65535), qos = rng.int(3) as 0 | 1 | 2;
  const pk: MqttPacket[] = [
    { cmd: "publish", topic: topic(rng), payload: bytes(rng, payloadSize(rng)), qos, retain: rng.int(2) === 1, dup: qos > 0 && rng.int(2) === 1, messageId: id },
    { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: rng.pick(["", "dev", "ü-1"]), clean: true, keepalive: rng.int(65536),
      ...(rng.int(2) ? { username: "user", password: bytes(rng, rng.int(20)) } : {}),
      ...(rng.int(2) ? { will: { topic: topic(rng), payload: bytes(rng, rng.int(30)), qos, retain: rng.int(2) === 1 } } : {}) },
    { cmd: "connack", sessionPresent: false, returnCode: rng.int(6) },
    { cmd: rng.pick(["puback", "pubrec", "pubrel", "pubcomp", "unsuback"] as const), messageId: id } as MqttPacket,
    { cmd: "subscribe", messageId: id, subscriptions: Array.from({ length: 1 + rng.int(3) }, () => ({ topic: filter(rng), qos: rng.int(3) as 0 | 1 | 2 })) },
    { cmd: "suback", messageId: id, granted: Array.from({ length: 1 + rng.int(5) }, () => rng.pick([0, 1, 2, 128])) },
    { cmd: "unsubscribe", messageId: id, unsubscriptions: Array.from({ length: 1 + rng.int(3) }, () => filter(rng)) },
    { cmd: rng.pick(["pingreq", "pingresp", "disconnect"] as const) },
  ];
  return mqttPacket.generate(rng.pick(pk));
}

// ---- mutations

function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  let b = Array.from(src);
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    switch (rng.int(6)) {
      case 0: if (b.length) b[rng.int(b.length)] = rng.int(256); break; // random byte
      case 1: if (b.length) b[rng.int(b.length)] ^= 1 << rng.int(8); break; // bit flip
      case 2: b = b.slice(0, rng.int(b.length + 1)); break; // truncation
      case 3: { const at = rng.int(b.length + 1); b.splice(at, 0, ...Array.from(bytes(rng, 1 + rng.int(4)))); break; } // insertion
      case 4: if (b.length > 1) b[1 + rng.int(Math.min(4, b.length - 1))] = rng.pick([0x00, 0x7f, 0x80, 0xff, rng.int(256)]); break; // length field
      case 5: if (b.length) b[0] = (rng.int(16) << 4) | rng.int(16); break; // type and flags
    }
  }
  return Uint8Array.from(b);
}

function input(rng: Rng, corpus: Uint8Array[]): Uint8Array {
  switch (rng.int(5)) {
    case 0: return bytes(rng, rng.int(64)); // noise
    case 1: { const b = bytes(rng, 2 + rng.int(40)); b[0] = (rng.int(16) << 4) | rng.int(16); b[1] = Math.min(b.length - 2, rng.int(64)); return b; } // plausible header
    case 2: return rng.pick(corpus); // valid
    case 3: return mutate(rng, rng.pick(corpus));
    default: { // a few packets back to back, some mutated
      const parts = Array.from({ length: 2 + rng.int(3) }, () => (rng.int(2) ? mutate(rng, rng.pick(corpus)) : rng.pick(corpus)));
      return Buffer.concat(parts);
    }
  }
}

// ---- the checks

const known = new Set<number>(Object.values(ErrorCode));
const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

interface Tally { inputs: number; packets: number; ok: Record<string, number>; errors: Record<string, number>; failures: string[]; failed: number }


function checkStatus(t: Tally, s: number, what: string, where: string): void {
  if (s !== ReadStatus.NeedMore && s !== ReadStatus.Complete && !(s < 0 && known.has(-s))) fail(t, `${where}: ${what} returned ${s}`);
}

/** Offsets of what decode said is there lie within the received bytes and make sense for the type. */
function checkPacket(t: Tally, r: PushReader, p: ServerPacket, res: number, where: string): void {
  const stored = r.stored;
  const range = (name: string, s: number, e: number) => {
    if (!(s >= 0 && s <= e && e <= stored)) fail(t, `${where}: ${name} [${s}, ${e}) outside [0, ${stored})`);
  };
  if (res !== 0 && !(res === -ErrorCode.PacketTooLarge && p.type === PacketType.PUBLISH)) return;
  if (p.buf !== r.buf) fail(t, `${where}: packet.buf is not the reader's buffer`);
  switch (p.type) {
    case PacketType.PUBLISH:
      if (res === -ErrorCode.PacketTooLarge && p.topicEnd === 0) return; // topic cut off: nothing readable
      range("topic", p.topicStart, p.topicEnd);
      range("payload", p.payloadStart, p.payloadEnd);
      if (p.payloadEnd > p.payloadStart && p.payloadStart < p.topicEnd) fail(t, `${where}: payload overlaps topic`);
      try {
        const s = fatalUtf8.decode(r.buf.subarray(p.topicStart, p.topicEnd));
        if (!s || /[\u0000+#]/.test(s)) fail(t, `${where}: accepted topic ${JSON.stringify(s)}`);
      } catch { fail(t, `${where}: accepted a topic that is not UTF-8`); }
      break;
    case PacketType.CONNECT:
      range("clientId", p.connect!.clientIdStart, p.connect!.clientIdEnd);
      if (p.connect!.connectFlags & 4) { range("will topic", p.connect!.willTopicStart, p.connect!.willTopicEnd); range("will payload", p.connect!.willPayloadStart, p.connect!.willPayloadEnd); }
      if (p.connect!.usernameStart !== -1) range("username", p.connect!.usernameStart, p.connect!.usernameEnd);
      if (p.connect!.passwordStart !== -1) range("password", p.connect!.passwordStart, p.connect!.passwordEnd);
      break;
    case PacketType.SUBSCRIBE: case PacketType.UNSUBSCRIBE: case PacketType.SUBACK:
      range("payload", p.payloadStart, p.payloadEnd);
      break;
  }
  if (res !== 0) return;
  // A server answers an unknown protocol level with CONNACK 1 (MQTT-3.1.2-2), so decode leaves the level to it;
  // mqtt-packet refuses such packets outright, so there is nothing to compare.
  if (p.type === PacketType.CONNECT && p.connect!.protocolLevel !== 4) return;
  // Accepted: mqtt-packet must read the same packet from the same header and body.
  const body = r.buf.subarray(0, r.length);
  const head = new Uint8Array(5);
  const hl = writeHeader(head, 0, r.first, r.length);
  const whole = Buffer.concat([head.subarray(0, hl), body]);
  let theirs: unknown;
  try {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const got: MqttPacket[] = [];
    parser.on("packet", (x) => got.push(x));
    parser.on("error", (e) => { theirs = `error ${e.message}`; });
    parser.parse(whole);
    if (theirs === undefined) theirs = got.length === 1 ? fromMqttPacket(got[0]) : `${got.length} packets`;
  } catch (e) { theirs = `threw ${(e as Error).message}`; }
  let ours: unknown;
  try { ours = fromOurPacket(p); } catch (e) { ours = `threw ${(e as Error).message}`; }
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) fail(t, `${where}: we accept ${whole.toString("hex")} as ${JSON.stringify(ours)}, mqtt-packet: ${JSON.stringify(theirs)}`);
  if (p.type === PacketType.SUBSCRIBE || p.type === PacketType.UNSUBSCRIBE) filterEntries(p); // walks to payloadEnd exactly or throws
}

/** Feeds one input through a reader of `capacity`, in random chunks, with push or pull. */
function run(t: Tally, rng: Rng, data: Uint8Array, capacity: number, mode: "push" | "pull", guarded: boolean, where: string): void {
  const here = () => `${where} cap=${capacity} ${mode}`;
  const r = guarded ? guardedReader(capacity, t, here) : new PushReader(capacity);
  const p = new ServerPacket();
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < data.length;) { const n = 1 + rng.int(rng.int(2) ? 8 : 200); pieces.push(data.subarray(i, i + n)); i += n; }
  const complete = () => {
    t.packets++;
    const res = decodeAny(r, p);
    checkStatus(t, res, "decode", here());
    if (res === ReadStatus.Complete) fail(t, `${here()}: decode returned 1`);
    const key = `${p.type}`;
    if (res === 0) t.ok[key] = (t.ok[key] ?? 0) + 1;
    else { const name = Object.entries(ErrorCode).find(([, v]) => v === -res)?.[0] ?? String(res); t.errors[name] = (t.errors[name] ?? 0) + 1; }
    checkPacket(t, r, p, res, here());
  };
  const readerError = (s: number) => {
    const name = Object.entries(ErrorCode).find(([, v]) => v === -s)?.[0] ?? String(s);
    t.errors[`reader ${name}`] = (t.errors[`reader ${name}`] ?? 0) + 1;
    r.reset();
  };
  try {
    if (mode === "push") {
      for (const c of pieces) {
        let i = 0;
        while (i < c.length) {
          const s = r.push(c, i, c.length);
          checkStatus(t, s, "push", here());
          if (!(r.consumed >= 0 && r.consumed <= c.length - i)) { fail(t, `${here()}: push consumed ${r.consumed} of ${c.length - i}`); return; }
          if (r.consumed === 0 && s === ReadStatus.NeedMore) { fail(t, `${here()}: push made no progress`); return; }
          i += r.consumed;
          if (s === ReadStatus.Complete) complete();
          else if (s < 0) readerError(s);
        }
      }
    } else {
      const src = new ChunkSource(); // throws if the reader reads past what is available
      for (const c of pieces) {
        src.feed(c);
        while (src.available() > 0) {
          const before = src.available();
          const s = r.pull(src);
          checkStatus(t, s, "pull", here());
          if (s === ReadStatus.Complete) complete();
          else if (s < 0) readerError(s);
          else if (src.available() === before) { fail(t, `${here()}: pull made no progress`); return; }
        }
      }
      if (src.delivered !== data.length) fail(t, `${here()}: source delivered ${src.delivered} of ${data.length} bytes`);
    }
  } catch (e) {
    fail(t, `${here()}: threw ${(e as Error).stack?.split("\n").slice(0, 3).join(" | ")}`);
  }
}

describe("codec fuzz", () => {
  // About 10 s per 100,000 inputs on a slow machine, with room to spare.
  it(`survives ${INPUTS} random and mutated inputs (seed ${seed})`, { timeout: 60_000 + INPUTS / 2 }, () => {
    console.log(`codec fuzz: seed ${seed} (replay with FUZZ_SEED=${seed})`);
    const rng = prng(seed);
    const corpus = Array.from({ length: 300 }, () => new Uint8Array(validPacket(rng)));
    const t: Tally = { inputs: 0, packets: 0, ok: {}, errors: {}, failures: [], failed: 0 };
    const started = Date.now();
    for (let n = 0; n < INPUTS; n++) {
      const data = input(rng, corpus);
      const where = `seed ${seed} input #${n} (${Buffer.from(data.subarray(0, 48)).toString("hex")}${data.length > 48 ? "..." : ""})`;
      const capacity = rng.pick([64, 4096, 64, 4096, 1, 2, 16]);
      run(t, rng, data, capacity, rng.int(2) ? "push" : "pull", n % 8 === 0, where);
      t.inputs++;
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`codec fuzz: ${t.inputs} inputs, ${t.packets} packets decoded in ${seconds.toFixed(1)} s; ok by type ${JSON.stringify(t.ok)}; errors ${JSON.stringify(t.errors)}`);
    expect(t.failures, `${t.failed} failures, the first ones`).toEqual([]);
    expect(t.inputs).toBe(INPUTS);
    // The fuzzer must actually reach the decoder's paths, or a green run means nothing.
    for (let type = 1; type <= 14; type++) expect(t.ok[type] ?? 0, `accepted packets of type ${type}`).toBeGreaterThan(0);
    for (const e of ["MalformedPacket", "BadUtf8", "PacketTooLarge", "reader MalformedLength"]) expect(t.errors[e] ?? 0, e).toBeGreaterThan(0);
  });

  it("the guard itself catches a read past the stored bytes (so the check above can fail)", () => {
    const t: Tally = { inputs: 0, packets: 0, ok: {}, errors: {}, failures: [], failed: 0 };
    const r = guardedReader(8, t, () => "self-test");
    r.push(Uint8Array.of(0x40, 0x02, 0x00, 0x01), 0, 4);
    void r.buf[2];
    expect(t.failures).toEqual(["self-test: read buf[2] past the 2 stored bytes"]);
  });
});
