// An incoming message as the application sees it: the session's one decoded packet, reused for every
// delivery and pointing into the receive buffer. Offsets and byte comparisons are free; `topic`, `text` and
// `payload` allocate when read, so read them only when needed (copy what you keep: the buffer is reused).
import { Packet } from "./codec";
import { readDecimal } from "./decimal";
import { readUtf8 } from "./utf8";
import { StringCache, Topic, sameBytes } from "./topic-bytes";

export class Message extends Packet {
  /** Bytes of the strings compared lately (and of payload strings the session publishes): found by identity. */
  private textCache: StringCache | undefined = undefined;
  /** Made on first use: a client that never compares or sends strings does not pay its slots. */
  get texts(): StringCache { return this.textCache ??= new StringCache(4, false); }

  /** The receive buffer; topic and payload are byte ranges in it. */
  get buffer(): Uint8Array { return this.buf; }
  /** Payload size in bytes. */
  get length(): number { return this.payloadEnd - this.payloadStart; }
  /** The topic as a string (allocates). */
  get topic(): string { return readUtf8(this.buf, this.topicStart, this.topicEnd); }
  /** The payload decoded as UTF-8 (allocates). */
  get text(): string { return readUtf8(this.buf, this.payloadStart, this.payloadEnd); }
  /** The payload parsed as a decimal number, NaN if it is not one (no allocation). */
  get number(): number { return readDecimal(this.buf, this.payloadStart, this.payloadEnd); }
  /** The payload bytes as a view (allocates the view, not the bytes; valid until the next packet). */
  get payload(): Uint8Array { return this.buf.subarray(this.payloadStart, this.payloadEnd); }
  /**
   * True if the topic is exactly `topic`. No allocation for a Topic, or for one of the last 4 strings
   * compared (the first comparison with a new string encodes it once).
   */
  topicIs(topic: string | Topic): boolean {
    const b = topic instanceof Topic ? topic.bytes : this.texts.bytes(topic);
    return sameBytes(b, 0, b.length, this.buf, this.topicStart, this.topicEnd);
  }
  /** True if the payload is exactly the UTF-8 of `text`, e.g. msg.textIs("ON") (allocation as for topicIs). */
  textIs(text: string): boolean {
    const b = this.texts.bytes(text);
    return sameBytes(b, 0, b.length, this.buf, this.payloadStart, this.payloadEnd);
  }
  /** Byte `i` of the payload. */
  byte(i: number): number { return this.buf[this.payloadStart + i]; }
}
