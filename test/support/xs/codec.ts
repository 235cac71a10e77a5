// XS entry for test/xs-codec: runs src/mqtt/codec inside XS on plain data from the Node side, which compares
// the results with mqtt-packet and with the same codec on V8. Packets come back as raw fields and buffer bytes.
import { encodePublish } from "../../../src/mqtt/codec.ts";
import { encodeOurs, type Fields } from "../encode-fields.ts";
import type { ServerPacket } from "../../../sim/brokers/server-codec.ts";
import { decodeChunks } from "../codec-stream.ts";

const scratch = new Uint8Array(70000);

/** Our bytes for each packet, or { error } with the codec's (negative) error code. */
export function encode(list: Fields[]): (number[] | { error: number })[] {
  return list.map((f) => {
    const end = encodeOurs(scratch, 0, f);
    return end < 0 ? { error: end } : Array.from(scratch.subarray(0, end));
  });
}

/** A PUBLISH whose payload is a string or a number (the codec writes those without allocating). */
export function encodeTextPublish(topic: string, payload: string | number, qos: number, packetId: number): number[] | { error: number } {
  const end = encodePublish(scratch, 0, topic, payload, qos, false, false, packetId);
  return end < 0 ? { error: end } : Array.from(scratch.subarray(0, end));
}

export type RawOutcome = { packet: Record<string, unknown>; buf: number[] } | { error: number; type: number };

function snapshot(p: ServerPacket): RawOutcome {
  const packet: Record<string, unknown> = {};
  for (const key of Object.keys(p)) if (key !== "buf") packet[key] = (p as unknown as Record<string, unknown>)[key];
  if (p.connect) packet.connect = { ...p.connect }; // the decoder reuses it for the next CONNECT
  return { packet, buf: Array.from(p.buf) };
}

/** Decodes a byte stream cut into chunks, through push or pull; after an error the reader resets and goes on. */
export function decodeRaw(chunks: number[][], capacity: number, mode: "push" | "pull"): RawOutcome[] {
  return decodeChunks(chunks.map((c) => Uint8Array.from(c)), capacity, mode, (status, p, type) => (status === 0 ? snapshot(p) : { error: status, type }));
}
