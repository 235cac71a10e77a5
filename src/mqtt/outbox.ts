// Packets waiting for the connection or for send-window space, in order, in one fixed byte buffer.
// Packets come in with a native copy from a packet buffer; they leave by copying into one (queued traffic only).
// Entry layout: [length hi][length lo][kind][packet bytes]. Bounded: the owner decides what to drop.

export const EntryKind = Object.freeze({
  /** A packet that can go as soon as there is window space (QoS 0 PUBLISH, SUBSCRIBE, ...). */
  Plain: 0,
  /** A QoS 1/2 PUBLISH that still needs an in-flight slot and packet id. */
  NeedsSlot: 1,
} as const);

export class Outbox {
  readonly bytes: Uint8Array;
  readonly capacity: number;
  private head = 0;
  private tail = 0;
  /** Entries queued. */
  count = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.capacity = capacity;
  }

  /** Bytes used, including the 3-byte entry headers. */
  get used(): number { return this.tail - this.head; }

  /** True if a packet of `length` bytes would fit (after compaction). */
  fits(length: number): boolean {
    return this.tail - this.head + length + 3 <= this.capacity;
  }

  /** Appends the whole of `packet`; false if it does not fit. */
  push(packet: Uint8Array, kind: number): boolean {
    const n = packet.length;
    if (!this.fits(n)) return false;
    if (this.tail + n + 3 > this.capacity) this.compact();
    const b = this.bytes;
    let o = this.tail;
    b[o++] = n >> 8;
    b[o++] = n & 255;
    b[o++] = kind;
    b.set(packet, o);
    this.tail = o + n;
    this.count++;
    return true;
  }

  /** Copies the first entry's packet into dst[0, n) and returns n (valid while count > 0). */
  copyFirst(dst: Uint8Array): number {
    const b = this.bytes, n = this.firstLength, start = this.head + 3;
    for (let i = 0; i < n; i++) dst[i] = b[start + i];
    return n;
  }

  /** Offset in `bytes` of the first entry's packet (valid while count > 0). */
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
    this.head = this.tail = 0;
    this.count = 0;
  }

  private compact(): void {
    this.bytes.copyWithin(0, this.head, this.tail);
    this.tail -= this.head;
    this.head = 0;
  }
}
