// An incoming message as the application sees it: one object reused for every delivery, pointing into the
// receive buffer. Offsets and byte comparisons are free; `topic`, `text` and `payload` allocate when read,
// so read them only when needed (or copy what you keep: the buffer is reused by the next packet).
import type { Packet } from "./codec";
import { readDecimal } from "./codec";
import { equalsUtf8, readUtf8 } from "./utf8";

export class Message {
  /** The receive buffer; topic and payload are byte ranges in it. */
  buffer: Uint8Array = new Uint8Array(0);
  topicStart = 0;
  topicEnd = 0;
  payloadStart = 0;
  payloadEnd = 0;
  qos = 0;
  retain = false;
  dup = false;
  packetId = 0;

  /** Points this view at a decoded PUBLISH. */
  set(p: Packet): void {
    this.buffer = p.buf;
    this.topicStart = p.topicStart;
    this.topicEnd = p.topicEnd;
    this.payloadStart = p.payloadStart;
    this.payloadEnd = p.payloadEnd;
    this.qos = p.qos;
    this.retain = p.retain;
    this.dup = p.dup;
    this.packetId = p.packetId;
  }

  /** Payload size in bytes. */
  get length(): number { return this.payloadEnd - this.payloadStart; }
  /** The topic as a string (allocates). */
  get topic(): string { return readUtf8(this.buffer, this.topicStart, this.topicEnd); }
  /** The payload decoded as UTF-8 (allocates). */
  get text(): string { return readUtf8(this.buffer, this.payloadStart, this.payloadEnd); }
  /** The payload parsed as a decimal number, NaN if it is not one (no allocation). */
  get number(): number { return readDecimal(this.buffer, this.payloadStart, this.payloadEnd); }
  /** The payload bytes as a view (allocates the view, not the bytes; valid until the next packet). */
  get payload(): Uint8Array { return this.buffer.subarray(this.payloadStart, this.payloadEnd); }
  /** True if the topic is exactly `topic` (no allocation). */
  topicIs(topic: string): boolean { return equalsUtf8(topic, this.buffer, this.topicStart, this.topicEnd); }
  /** True if the payload is exactly the UTF-8 of `text`, e.g. msg.textIs("ON") (no allocation). */
  textIs(text: string): boolean { return equalsUtf8(text, this.buffer, this.payloadStart, this.payloadEnd); }
  /** Byte `i` of the payload. */
  byte(i: number): number { return this.buffer[this.payloadStart + i]; }
}
