// src/mqtt/codec inside the real XS engine: fixed packets of every type must encode to mqtt-packet's bytes,
// decode to mqtt-packet's reading, and fail with the same error codes as on V8, whole or split anywhere.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XSHost } from "../sim/xs/host.ts";
import { chunk, decodeStream, fromOurPacket, ours, parseWithMqttPacket, theirs, type Fields, type Outcome } from "./support/codec-oracle.ts";
import { encodePublish } from "../src/mqtt/codec.ts";
import { ServerPacket } from "../sim/brokers/server-codec.ts";
import type { RawOutcome } from "./support/xs/codec.ts";

const bytes = (s: string): number[] => Array.from(Buffer.from(s, "utf8"));

/** Fixed cases: every packet type, remaining-length boundaries, UTF-8, QoS 0/1/2, will, auth, SUBACK 0x80. */
const fixed: Fields[] = [
  { cmd: "connect", clientId: "esp8266-a1b2c3", keepalive: 60, clean: true },
  { cmd: "connect", clientId: "", keepalive: 0, clean: true, username: "io_user", password: bytes("aio_key") },
  {
    cmd: "connect", clientId: "dev", keepalive: 65535, clean: false, username: "ü",
    will: { topic: "devices/dev/status", payload: bytes("offline"), qos: 1, retain: true },
  },
  { cmd: "connack", sessionPresent: false, returnCode: 0 },
  { cmd: "connack", sessionPresent: true, returnCode: 0 },
  { cmd: "connack", sessionPresent: false, returnCode: 5 },
  { cmd: "publish", topic: "a", payload: [], qos: 0, retain: false, dup: false },
  { cmd: "publish", topic: "user/feeds/temp", payload: bytes("21.5"), qos: 0, retain: true, dup: false },
  { cmd: "publish", topic: "user/feeds/temp", payload: bytes("21.5"), qos: 1, retain: false, dup: true, messageId: 1 },
  { cmd: "publish", topic: "données/température/€", payload: bytes("ok"), qos: 2, retain: false, dup: false, messageId: 65535 },
  // remaining length 127 / 128 / 16383 / 16384: the 1->2 and 2->3 byte boundaries of the length field
  { cmd: "publish", topic: "t", payload: new Array(127 - 3).fill(0x41), qos: 0, retain: false, dup: false },
  { cmd: "publish", topic: "t", payload: new Array(128 - 3).fill(0x42), qos: 0, retain: false, dup: false },
  { cmd: "publish", topic: "t", payload: new Array(16383 - 3).fill(0x43), qos: 0, retain: false, dup: false },
  { cmd: "publish", topic: "t", payload: new Array(16384 - 3).fill(0x44), qos: 0, retain: false, dup: false },
  { cmd: "puback", messageId: 1 },
  { cmd: "pubrec", messageId: 258 },
  { cmd: "pubrel", messageId: 65535 },
  { cmd: "pubcomp", messageId: 42 },
  { cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "user/feeds/+/json", qos: 1 }] },
  { cmd: "subscribe", messageId: 8, subscriptions: [{ topic: "#", qos: 2 }] },
  { cmd: "suback", messageId: 7, granted: [1] },
  { cmd: "suback", messageId: 8, granted: [0, 0x80, 2] },
  { cmd: "unsubscribe", messageId: 9, unsubscriptions: ["user/feeds/+/json"] },
  { cmd: "unsuback", messageId: 9 },
  { cmd: "pingreq" },
  { cmd: "pingresp" },
  { cmd: "disconnect" },
];

/** Byte streams the codec must refuse, each followed by a PINGRESP (XS must resynchronise exactly as V8 does). */
const malformed: { name: string; data: number[] }[] = [
  { name: "PUBLISH with QoS 3", data: [0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01] },
  { name: "remaining length longer than 4 bytes", data: [0x30, 0xff, 0xff, 0xff, 0xff, 0x7f] },
  { name: "CONNACK with reserved flag bits", data: [0x21, 0x02, 0x00, 0x00] },
  { name: "CONNACK with return code 6", data: [0x20, 0x02, 0x00, 0x06] },
  { name: "PUBACK with packet id 0", data: [0x40, 0x02, 0x00, 0x00] },
  { name: "PUBREL without its 0b0010 flags", data: [0x60, 0x02, 0x00, 0x01] },
  { name: "SUBACK with return code 3", data: [0x90, 0x03, 0x00, 0x01, 0x03] },
  { name: "PUBLISH topic with a wildcard", data: [0x30, 0x04, 0x00, 0x02, 0x61, 0x23] },
  { name: "PUBLISH topic that is not UTF-8", data: [0x30, 0x04, 0x00, 0x02, 0xc3, 0x28] },
  { name: "reserved packet type 15", data: [0xf0, 0x00] },
];
const pingresp = [0xd0, 0x00];

/** XS's raw outcome in the helpers' Outcome shape (strings decoded on the Node side by fromOurPacket). */
function outcome(raw: RawOutcome): Outcome {
  if ("error" in raw) return { error: raw.error, type: raw.type };
  const p = Object.assign(new ServerPacket(), raw.packet, { buf: Uint8Array.from(raw.buf) });
  return { fields: fromOurPacket(p) };
}

describe("codec inside XS", () => {
  let xs: XSHost;
  beforeAll(async () => { xs = await XSHost.start({ entry: "test/support/xs/codec.ts" }); });
  afterAll(async () => { await xs?.close(); });

  it("encodes every fixed packet to exactly mqtt-packet's bytes (and V8's)", async () => {
    const encoded = await xs.call<(number[] | { error: number })[]>("encode", fixed);
    expect(encoded).toHaveLength(fixed.length);
    fixed.forEach((f, i) => {
      expect(encoded[i], `${f.cmd} #${i}`).toEqual(Array.from(theirs(f)));
      expect(encoded[i], `${f.cmd} #${i} vs V8`).toEqual(Array.from(ours(f)));
    });
  });

  it("decodes every fixed packet as mqtt-packet reads it, whole, byte by byte and in odd chunks, push and pull", async () => {
    const stream = Uint8Array.from(fixed.flatMap((f) => Array.from(theirs(f))));
    const expected = parseWithMqttPacket(stream).map((fields) => ({ fields }));
    expect(expected).toHaveLength(fixed.length);
    const cuts = {
      whole: [],
      bytewise: Array.from({ length: stream.length }, (_, i) => i),
      odd: Array.from({ length: 400 }, (_, i) => (i * i * 7 + i * 13) % stream.length),
    };
    for (const [name, at] of Object.entries(cuts)) {
      const chunks = chunk(stream, at).map((c) => Array.from(c));
      for (const mode of ["push", "pull"] as const) {
        const raw = await xs.call<RawOutcome[]>("decodeRaw", chunks, 20000, mode);
        expect(raw.map(outcome), `${name} ${mode}`).toEqual(expected);
      }
    }
  });

  it("refuses malformed packets with the same error codes as on V8, and goes on the same way", async () => {
    for (const { name, data } of malformed) {
      const chunks = [[...data, ...pingresp]];
      const v8 = decodeStream(chunks.map((c) => Uint8Array.from(c)), 256, "push");
      expect("error" in v8[0], `${name}: V8 refuses it`).toBe(true);
      const inXS = (await xs.call<RawOutcome[]>("decodeRaw", chunks, 256, "push")).map(outcome);
      expect(inXS, name).toEqual(v8);
    }
  });

  it("an oversized PUBLISH is reported (topic kept, payload skipped) and the next packet decodes", async () => {
    const big: Fields = { cmd: "publish", topic: "big/topic", payload: new Array(1000).fill(1), qos: 1, retain: false, dup: false, messageId: 5 };
    const chunks = [[...theirs(big), ...pingresp]];
    const v8 = decodeStream(chunks.map((c) => Uint8Array.from(c)), 64, "pull");
    const inXS = (await xs.call<RawOutcome[]>("decodeRaw", chunks, 64, "pull")).map(outcome);
    expect(inXS).toEqual(v8);
    expect(inXS[1]).toEqual({ fields: { cmd: "pingresp" } });
  });

  it("string and number payloads are written the same by XS and V8", async () => {
    const cases: [string, string | number][] = [
      ["t/s", "héllo 😀"], ["t/n", 21.5], ["t/n", -0.000001], ["t/n", 1e6], ["t/n", 0], ["t/n", -40], ["t/n", 3.14159265],
    ];
    for (const [topic, payload] of cases) {
      const v8 = new Uint8Array(256);
      const end = encodePublish(v8, 0, topic, payload, 1, false, false, 3);
      expect(end, String(payload)).toBeGreaterThan(0);
      expect(await xs.call("encodeTextPublish", topic, payload, 1, 3), String(payload)).toEqual(Array.from(v8.subarray(0, end)));
    }
  });
});
