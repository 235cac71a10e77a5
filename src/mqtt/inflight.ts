// Outgoing QoS 1/2 publishes until the broker acknowledges them: a fixed number of slots, each holding
// the encoded PUBLISH so it can be resent with DUP after a reconnect (MQTT-4.4.0-1).

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

export class Inflight {
  readonly size: number;
  readonly slotSize: number;
  readonly states: Uint8Array;
  readonly ids: Uint16Array;
  readonly lengths: Uint32Array;
  /** Order of entry, so resends keep the original order. */
  readonly order: Uint32Array;
  /** One view per slot over one buffer, created once. */
  readonly slots: Uint8Array[];
  private sequence = 0;
  /** Slots not Free. */
  count = 0;

  constructor(size: number, slotSize: number) {
    this.size = size;
    this.slotSize = slotSize;
    this.states = new Uint8Array(size);
    this.ids = new Uint16Array(size);
    this.lengths = new Uint32Array(size);
    this.order = new Uint32Array(size);
    const all = new Uint8Array(size * slotSize);
    this.slots = [];
    for (let i = 0; i < size; i++) this.slots.push(all.subarray(i * slotSize, (i + 1) * slotSize));
  }

  /** Index of a free slot, or -1. */
  free(): number {
    for (let i = 0; i < this.size; i++) if (this.states[i] === SlotState.Free) return i;
    return -1;
  }

  /** Slot holding `packetId`, or -1. */
  find(packetId: number): number {
    for (let i = 0; i < this.size; i++) if (this.states[i] !== SlotState.Free && this.ids[i] === packetId) return i;
    return -1;
  }

  /** Marks slot `i` as holding a new PUBLISH of `length` bytes with `packetId`. */
  take(i: number, packetId: number, length: number): void {
    this.states[i] = SlotState.PublishToSend;
    this.ids[i] = packetId;
    this.lengths[i] = length;
    this.order[i] = ++this.sequence;
    this.count++;
  }

  release(i: number): void {
    if (this.states[i] === SlotState.Free) return;
    this.states[i] = SlotState.Free;
    this.count--;
  }

  /** The next slot (oldest first) in state `state`, or -1. */
  oldest(state: number): number {
    let best = -1;
    for (let i = 0; i < this.size; i++)
      if (this.states[i] === state && (best < 0 || this.order[i] < this.order[best])) best = i;
    return best;
  }

  /** After a reconnect: everything unacknowledged is sent again, PUBLISH with DUP set (MQTT-3.3.1-1). */
  rewind(): void {
    for (let i = 0; i < this.size; i++) {
      const s = this.states[i];
      if (s === SlotState.AwaitPuback || s === SlotState.AwaitPubrec) {
        this.slots[i][0] |= 0x08;
        this.states[i] = SlotState.PublishToSend;
      } else if (s === SlotState.AwaitPubcomp) this.states[i] = SlotState.PubrelToSend;
    }
  }

  clear(): void {
    this.states.fill(0);
    this.count = 0;
  }
}
