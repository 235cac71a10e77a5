// Outgoing QoS 1/2 publishes until the broker acknowledges them: a fixed number of slots in one byte buffer,
// each holding the encoded PUBLISH so it can be resent with DUP after a reconnect (MQTT-4.4.0-1).
// Bookkeeping lives in one Uint32Array: every object costs heap slots on a 32 KB ESP8266.

export const SlotState = {
  Free: 0,
  /** PUBLISH to send (new, or to resend after a reconnect). */
  PublishToSend: 1,
  /** QoS 1 PUBLISH sent, waiting for PUBACK. */
  AwaitPuback: 2,
  /** QoS 2 PUBLISH sent, waiting for PUBREC. */
  AwaitPubrec: 3,
  /** PUBREC received, PUBREL to send. */
  PubrelToSend: 4,
  /** PUBREL sent, waiting for PUBCOMP. */
  AwaitPubcomp: 5,
} as const;

// meta[4 * i + field]
const STATE = 0, ID = 1, LENGTH = 2, ORDER = 3;

export class Inflight {
  readonly size: number;
  readonly slotSize: number;
  /** Slot i's packet is data[start(i), start(i) + length(i)). */
  readonly data: Uint8Array;
  private readonly base: number;
  private readonly meta: Uint32Array;
  private sequence = 0;
  /** Slots not Free. */
  count = 0;

  /** Slots in data[base, base + size * slotSize); a buffer of their own when `data` is not given. */
  constructor(size: number, slotSize: number, data?: Uint8Array, base = 0) {
    this.size = size;
    this.slotSize = slotSize;
    this.data = data ?? new Uint8Array(size * slotSize);
    this.base = base;
    if (base + size * slotSize > this.data.length) throw new RangeError("Inflight: slots outside the buffer");
    this.meta = new Uint32Array(size * 4);
  }

  state(i: number): number { return this.meta[4 * i + STATE]; }
  setState(i: number, state: number): void { this.meta[4 * i + STATE] = state; }
  id(i: number): number { return this.meta[4 * i + ID]; }
  length(i: number): number { return this.meta[4 * i + LENGTH]; }
  /** Offset of slot i in `data`. */
  start(i: number): number { return this.base + i * this.slotSize; }

  /** Index of a free slot, or -1. */
  free(): number {
    for (let i = 0; i < this.size; i++) if (this.meta[4 * i + STATE] === SlotState.Free) return i;
    return -1;
  }

  /** Slot holding `packetId`, or -1. */
  find(packetId: number): number {
    const m = this.meta;
    for (let i = 0; i < this.size; i++) if (m[4 * i + STATE] !== SlotState.Free && m[4 * i + ID] === packetId) return i;
    return -1;
  }

  /** Marks slot `i` as holding a new PUBLISH of `length` bytes with `packetId`. */
  take(i: number, packetId: number, length: number): void {
    const m = this.meta, o = 4 * i;
    m[o + STATE] = SlotState.PublishToSend;
    m[o + ID] = packetId;
    m[o + LENGTH] = length;
    m[o + ORDER] = ++this.sequence;
    this.count++;
  }

  release(i: number): void {
    if (this.meta[4 * i + STATE] === SlotState.Free) return;
    this.meta[4 * i + STATE] = SlotState.Free;
    this.count--;
  }

  /** The next slot (oldest first) in state `state` or `other`, or -1. */
  oldest(state: number, other = -1): number {
    const m = this.meta;
    let best = -1;
    for (let i = 0; i < this.size; i++) {
      const s = m[4 * i + STATE];
      if ((s === state || s === other) && (best < 0 || m[4 * i + ORDER] < m[4 * best + ORDER])) best = i;
    }
    return best;
  }

  /** After a reconnect: everything unacknowledged is sent again, PUBLISH with DUP set (MQTT-3.3.1-1). */
  rewind(): void {
    const m = this.meta;
    for (let i = 0; i < this.size; i++) {
      const s = m[4 * i + STATE];
      if (s === SlotState.AwaitPuback || s === SlotState.AwaitPubrec) {
        this.data[this.base + i * this.slotSize] |= 0x08;
        m[4 * i + STATE] = SlotState.PublishToSend;
      } else if (s === SlotState.AwaitPubcomp) m[4 * i + STATE] = SlotState.PubrelToSend;
    }
  }

  clear(): void {
    this.meta.fill(0);
    this.count = 0;
  }
}
