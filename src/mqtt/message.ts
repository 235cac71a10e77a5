// An incoming message as the application sees it: the session's one decoded packet, reused for every
// delivery and pointing into the receive buffer. Offsets and byte comparisons are free; `topic`, `text` and
// `payload` allocate when read, so read them only when needed (copy what you keep: the buffer is reused).
import { Packet } from "./codec";
import { readDecimal } from "./decimal";
import { readUtf8 } from "./utf8";
import { StringCache, Topic, sameBytes } from "./topic-bytes";
import { Property, fieldEnd, findProperty, forEachUserProperty, readVarint, varintSize } from "./properties";

export class Message extends Packet {
  /** Bytes of the strings compared lately (and of payload strings the session publishes): found by identity. */
  private textCache: StringCache | undefined = undefined;
  /** Made on first use: a client that never compares or sends strings does not pay its slots. */
  get texts(): StringCache { return this.textCache ??= new StringCache(4, false); }

  /** The receive buffer; the payload is a byte range in it, and so is the topic unless it came by alias (see topicBuf). */
  get buffer(): Uint8Array { return this.buf; }
  /** Payload size in bytes. */
  get length(): number { return this.payloadEnd - this.payloadStart; }
  /** The topic as a string (allocates). */
  get topic(): string { return readUtf8(this.topicBuf, this.topicStart, this.topicEnd); }
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
    return sameBytes(b, 0, b.length, this.topicBuf, this.topicStart, this.topicEnd);
  }
  /** True if the payload is exactly the UTF-8 of `text`, e.g. msg.textIs("ON") (allocation as for topicIs). */
  textIs(text: string): boolean {
    const b = this.texts.bytes(text);
    return sameBytes(b, 0, b.length, this.buf, this.payloadStart, this.payloadEnd);
  }
  /** Byte `i` of the payload. */
  byte(i: number): number { return this.buf[this.payloadStart + i]; }

  // MQTT 5.0 properties (undefined / -1 / 0 when absent, and always in 3.1.1). Numbers are fields: payloadFormat,
  // messageExpiry, topicAlias, subscriptionId (the first), subscriptionIds (how many), userPropertyCount.

  /** Content Type (allocates). */
  get contentType(): string | undefined { return this.utf8At(this.contentTypeAt); }
  /** Response Topic (allocates). */
  get responseTopic(): string | undefined { return this.utf8At(this.responseTopicAt); }
  /** Correlation Data as a view into the buffer (allocates the view; valid until the next packet). */
  get correlationData(): Uint8Array | undefined {
    const at = this.correlationDataAt;
    return at < 0 ? undefined : this.buf.subarray(at + 2, fieldEnd(this.buf, at));
  }
  /** Reason String (allocates): on a PUBACK/PUBREC/PUBCOMP, SUBACK, UNSUBACK, DISCONNECT or AUTH. */
  get reasonString(): string | undefined { return this.utf8At(this.reasonStringAt); }
  /** True if the Content Type is exactly `type` (no allocation for one of the last 4 strings compared). */
  contentTypeIs(type: string): boolean {
    const at = this.contentTypeAt;
    if (at < 0) return false;
    const b = this.texts.bytes(type);
    return sameBytes(b, 0, b.length, this.buf, at + 2, fieldEnd(this.buf, at));
  }
  /** True if the message came with Subscription Identifier `id` (no allocation). */
  hasSubscriptionId(id: number): boolean {
    if (this.subscriptionIds <= 1) return this.subscriptionId === id && id !== 0;
    const b = this.buf, end = this.propertiesEnd;
    let o = this.propertiesStart;
    while ((o = findProperty(b, o, end, Property.SubscriptionIdentifier)) >= 0) {
      const v = readVarint(b, o, end);
      if (v === id) return true;
      o += varintSize(v);
    }
    return false;
  }
  /** Every Subscription Identifier the message came with (allocates the array). */
  get subscriptionIdentifiers(): number[] {
    const ids: number[] = [], b = this.buf, end = this.propertiesEnd;
    let o = this.propertiesStart;
    while (this.subscriptionIds > 0 && (o = findProperty(b, o, end, Property.SubscriptionIdentifier)) >= 0) {
      const id = readVarint(b, o, end);
      ids.push(id);
      o += varintSize(id);
    }
    return ids;
  }
  /** User properties as name → value (a name sent more than once → its values in order). Allocates. */
  get userProperties(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {}, b = this.buf;
    forEachUserProperty(b, this.propertiesStart, this.propertiesEnd, (ks, ke, vs, ve) => {
      const k = readUtf8(b, ks, ke), v = readUtf8(b, vs, ve), had = out[k];
      out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    });
    return out;
  }
  /** The first value of user property `name`, or undefined (allocates the string). */
  userProperty(name: string): string | undefined {
    let found: string | undefined;
    const b = this.buf;
    forEachUserProperty(b, this.propertiesStart, this.propertiesEnd, (ks, ke, vs, ve) => {
      if (found === undefined && readUtf8(b, ks, ke) === name) found = readUtf8(b, vs, ve);
    });
    return found;
  }

  private utf8At(at: number): string | undefined {
    return at < 0 ? undefined : readUtf8(this.buf, at + 2, fieldEnd(this.buf, at));
  }
}
