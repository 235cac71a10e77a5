// Packets waiting for the connection or for send-window space, in order, in a fixed region of a byte buffer
// (the session's arena, so packets move in and out with native copyWithin, allocating nothing).
// Entry layout: [length hi][length lo][kind][packet bytes]. Bounded: the owner decides what to drop.

export const EntryKind = {
  /** A packet that can go as soon as there is window space (QoS 0 PUBLISH, SUBSCRIBE, ...). */
  Plain: 0,
  /** A QoS 1/2 PUBLISH that still needs an in-flight slot and packet id. */
  NeedsSlot: 1,
} as const;

export class Outbox {
  /** The buffer holding the region; offsets below are absolute in it. */
  readonly bytes: Uint8Array;
  readonly capacity: number;
  private readonly base: number;
  private head: number;
  private tail: number;
  /** Entries queued. */
  count = 0;

  /** The region bytes[base, base + capacity); a buffer of its own when `bytes` is not given. */
  constructor(capacity: number, bytes?: Uint8Array, base = 0) {
    this.bytes = bytes ?? new Uint8Array(capacity);
    this.capacity = capacity;
    this.base = this.head = this.tail = base;
    if (base + capacity > this.bytes.length) throw new RangeError("Outbox: region outside the buffer");
  }

  /** Bytes used, including the 3-byte entry headers. */
  get used(): number { return this.tail - this.head; }

  /** True if a packet of `length` bytes would fit (after compaction). */
  fits(length: number): boolean {
    return this.tail - this.head + length + 3 <= this.capacity;
  }

  /** Appends src[start, end); false if it does not fit. */
  push(src: Uint8Array, start: number, end: number, kind: number): boolean {
    const n = end - start;
    if (!this.fits(n)) return false;
    if (this.tail + n + 3 > this.base + this.capacity) this.compact();
    const b = this.bytes;
    let o = this.tail;
    b[o++] = n >> 8;
    b[o++] = n & 255;
    b[o++] = kind;
    if (src.buffer === b.buffer) b.copyWithin(o, src.byteOffset - b.byteOffset + start, src.byteOffset - b.byteOffset + end);
    else for (let i = start; i < end; i++) b[o + i - start] = src[i];
    this.tail = o + n;
    this.count++;
    return true;
  }

  /** Offset in `bytes` of the first entry's packet (valid while count > 0). */
  get firstStart(): number { return this.head + 3; }
  get firstLength(): number { return (this.bytes[this.head] << 8) | this.bytes[this.head + 1]; }
  get firstKind(): number { return this.bytes[this.head + 2]; }

  /** Removes the first entry. */
  shift(): void {
    if (this.count === 0) return;
    this.head += 3 + this.firstLength;
    if (--this.count === 0) this.head = this.tail = this.base;
  }

  clear(): void {
    this.head = this.tail = this.base;
    this.count = 0;
  }

  private compact(): void {
    this.bytes.copyWithin(this.base, this.head, this.tail);
    this.tail -= this.head - this.base;
    this.head = this.base;
  }
}
