// Outgoing QoS 1/2 publishes until the broker acknowledges them: a fixed number of slots, each a packet buffer
// holding the encoded PUBLISH so it is written whole and resent with DUP after a reconnect (MQTT-4.4.0-1).
// Bookkeeping lives in one Uint32Array: every object costs heap slots on a 32 KB ESP8266.
import { packetBytes } from "./packet-buffer";

export const SlotState = Object.freeze({
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
} as const);

// meta[4 * i + field]
const STATE = 0, ID = 1, LENGTH = 2, ORDER = 3;

export class Inflight {
  readonly size: number;
  readonly slotSize: number;
  /** Slot i's packet: a length-tracking view, exactly the packet's bytes. */
  readonly packets: Uint8Array[];
  private readonly buffers: ArrayBuffer[];
  private readonly meta: Uint32Array;
  private sequence = 0;
  /** Slots not Free. */
  count = 0;
  /** Slots with something to send (PublishToSend, PubrelToSend): the session's pump skips the scan at 0. */
  waiting = 0;
  /** Slots that may be taken at once: `size`, or fewer when an MQTT 5.0 broker's Receive Maximum says so. */
  limit: number;

  constructor(size: number, slotSize: number) {
    this.size = size;
    this.slotSize = slotSize;
    this.packets = [];
    this.buffers = [];
    for (let i = 0; i < size; i++) {
      const bytes = packetBytes(slotSize);
      this.packets.push(bytes);
      this.buffers.push(bytes.buffer as ArrayBuffer);
    }
    this.meta = new Uint32Array(size * 4);
    this.limit = size;
  }

  /** Slot i's buffer at its full size, to encode a packet into (then `take` sets its length). */
  open(i: number): Uint8Array {
    this.buffers[i].resize(this.slotSize);
    return this.packets[i];
  }

  state(i: number): number { return this.meta[4 * i + STATE]; }
  setState(i: number, state: number): void {
    const m = this.meta, o = 4 * i;
    this.waiting += toSend(state) - toSend(m[o + STATE]);
    m[o + STATE] = state;
  }
  id(i: number): number { return this.meta[4 * i + ID]; }
  length(i: number): number { return this.meta[4 * i + LENGTH]; }

  /** Index of a free slot, or -1. (MQTT 5.0 callers check `limit` first: 3.1.1 does not pay for it.) */
  free(): number {
    for (let i = 0; i < this.size; i++) if (this.meta[4 * i + STATE] === SlotState.Free) return i;
    return -1;
  }

  /** Publishes sent and not yet acknowledged (all but Free and PublishToSend): what a Receive Maximum counts. */
  unacknowledged(): number {
    const m = this.meta;
    let n = 0;
    for (let i = 0; i < this.size; i++) { const s = m[4 * i + STATE]; if (s !== SlotState.Free && s !== SlotState.PublishToSend) n++; }
    return n;
  }

  /** Slot holding `packetId`, or -1. */
  find(packetId: number): number {
    const m = this.meta;
    for (let i = 0; i < this.size; i++) if (m[4 * i + STATE] !== SlotState.Free && m[4 * i + ID] === packetId) return i;
    return -1;
  }

  /** Marks slot `i` as holding a new PUBLISH of `length` bytes with `packetId`. */
  take(i: number, packetId: number, length: number): void {
    this.buffers[i].resize(length);
    const m = this.meta, o = 4 * i;
    m[o + STATE] = SlotState.PublishToSend;
    m[o + ID] = packetId;
    m[o + LENGTH] = length;
    m[o + ORDER] = ++this.sequence;
    this.count++;
    this.waiting++;
  }

  release(i: number): void {
    const s = this.meta[4 * i + STATE];
    if (s === SlotState.Free) return;
    this.waiting -= toSend(s);
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

  /**
   * After a reconnect: everything unacknowledged is sent again, PUBLISH with DUP set (MQTT-3.3.1-1); or, when
   * `fresh` (an MQTT 5.0 broker without our session: MQTT-3.2.2-5 says drop the old exchange), as new publishes.
   */
  rewind(fresh = false): void {
    const m = this.meta;
    for (let i = 0; i < this.size; i++) {
      const s = m[4 * i + STATE];
      if (s === SlotState.AwaitPuback || s === SlotState.AwaitPubrec) {
        if (fresh) this.packets[i][0] &= ~0x08;
        else this.packets[i][0] |= 0x08;
        m[4 * i + STATE] = SlotState.PublishToSend;
      } else if (s === SlotState.AwaitPubcomp) m[4 * i + STATE] = SlotState.PubrelToSend;
    }
    let waiting = 0;
    for (let i = 0; i < this.size; i++) waiting += toSend(m[4 * i + STATE]);
    this.waiting = waiting;
  }

  clear(): void {
    this.meta.fill(0);
    this.count = 0;
    this.waiting = 0;
  }
}

/** 1 for the states in which a slot has a packet to send. */
function toSend(state: number): number {
  return state === SlotState.PublishToSend || state === SlotState.PubrelToSend ? 1 : 0;
}
