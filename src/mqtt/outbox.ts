// Packets waiting for the connection or for send-window space, in order, in one fixed byte buffer.
// Entry layout: [length hi][length lo][kind][packet bytes]. Bounded: the owner decides what to drop.

export const EntryKind = {
  /** A packet that can go as soon as there is window space (QoS 0 PUBLISH, SUBSCRIBE, ...). */
  Plain: 0,
  /** A QoS 1/2 PUBLISH that still needs an in-flight slot and packet id. */
  NeedsSlot: 1,
} as const;

export class Outbox {
  readonly bytes: Uint8Array;
  private head = 0;
  private tail = 0;
  /** Entries queued. */
  count = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Bytes used, including the 3-byte entry headers. */
  get used(): number { return this.tail - this.head; }
  get capacity(): number { return this.bytes.length; }

  /** True if a packet of `length` bytes would fit (after compaction). */
  fits(length: number): boolean {
    return this.tail - this.head + length + 3 <= this.bytes.length;
  }

  /** Appends src[start, end); false if it does not fit. */
  push(src: Uint8Array, start: number, end: number, kind: number): boolean {
    const n = end - start;
    if (!this.fits(n)) return false;
    if (this.tail + n + 3 > this.bytes.length) this.compact();
    const b = this.bytes;
    let o = this.tail;
    b[o++] = n >> 8;
    b[o++] = n & 255;
    b[o++] = kind;
    for (let i = start; i < end; i++) b[o++] = src[i];
    this.tail = o;
    this.count++;
    return true;
  }

  /** Offset of the first entry's packet bytes (valid while count > 0). */
  get firstStart(): number { return this.head + 3; }
  get firstLength(): number { return (this.bytes[this.head] << 8) | this.bytes[this.head + 1]; }
  get firstKind(): number { return this.bytes[this.head + 2]; }

  /** Removes the first entry. */
  shift(): void {
    if (this.count === 0) return;
    this.head += 3 + this.firstLength;
    if (--this.count === 0) this.head = this.tail = 0;
  }

  clear(): void {
    this.head = this.tail = this.count = 0;
  }

  private compact(): void {
    this.bytes.copyWithin(0, this.head, this.tail);
    this.tail -= this.head;
    this.head = 0;
  }
}
