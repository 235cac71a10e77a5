// MQTT 5.0 topic aliases (3.3.2.3.4), per connection, in memory fixed at construction.
// Incoming: the broker names a topic once with an alias, then sends the alias alone; the topic bytes are kept
// here so the message view can point at them. Outgoing: the topics published most get the broker's aliases,
// so a PUBLISH carries 3 bytes instead of its topic.
import { sameBytes } from "./topic-bytes";

/** IncomingAliases.length of an alias whose topic was longer than a slot. */
export const TOO_LONG = 0xffff;

/** Topics the broker gave aliases: `count` aliases of up to `slot` bytes each, in one byte array. */
export class IncomingAliases {
  readonly count: number;
  readonly slot: number;
  /** Alias a's topic is bytes[(a - 1) * slot, (a - 1) * slot + length(a)). */
  readonly bytes: Uint8Array;
  private readonly lengths: Uint16Array;

  constructor(count: number, slot: number) {
    this.count = count;
    this.slot = slot;
    this.bytes = new Uint8Array(count * slot);
    this.lengths = new Uint16Array(count);
  }

  /** Forgets every alias (a new connection). */
  clear(): void { this.lengths.fill(0); }

  /** Remembers b[s, e) as alias `a` (1..count). False when the topic is longer than a slot (the alias is then unknown). */
  set(a: number, b: Uint8Array, s: number, e: number): boolean {
    const n = e - s;
    if (n > this.slot) {
      this.lengths[a - 1] = TOO_LONG;
      return false;
    }
    const to = this.bytes, o = (a - 1) * this.slot;
    let i = 0; // a loop, not set(subarray): no view to allocate
    for (; i < n; i++) to[o + i] = b[s + i];
    this.lengths[a - 1] = n;
    return true;
  }

  /** Bytes of alias a's topic; 0 when the broker has not named it on this connection, TOO_LONG when it did not fit. */
  length(a: number): number { return this.lengths[a - 1]; }
}

/**
 * Candidate topics (found by the identity of their bytes, a Topic's or a cached string's, else by content) with use counts; at most
 * `max` of them hold an alias, given first come first served, then taken over by a topic used more than the
 * least used holder.
 */
export class OutgoingAliases {
  /** Aliases the broker allows on this connection (its Topic Alias Maximum, capped by our table). */
  max = 0;
  private readonly topics: (Uint8Array | undefined)[];
  private readonly counts: Uint32Array;
  /** Alias of candidate i (0: none). */
  private readonly aliases: Uint32Array;
  private assigned = 0;
  /** The candidate looked up last and its alias once the broker knows it: a device publishing to one topic stops here. */
  private last: Uint8Array | undefined = undefined;
  private lastIndex = 0;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    const candidates = capacity * 2;
    this.topics = new Array(candidates).fill(undefined);
    this.counts = new Uint32Array(candidates);
    this.aliases = new Uint32Array(candidates);
  }

  /** A new connection allowing `brokerMax` aliases: every alias is forgotten (counts stay). */
  begin(brokerMax: number): void {
    this.max = brokerMax < this.capacity ? brokerMax : this.capacity;
    this.aliases.fill(0);
    this.assigned = 0;
    this.last = undefined;
  }

  /**
   * How to publish to `t` now: 0 with its topic only; alias a > 0 alone; -a with its topic, setting alias a.
   * Call only for a packet that is written at once (the broker learns the alias from that very packet).
   */
  lookup(t: Uint8Array): number {
    if (this.max === 0) return 0;
    const counts = this.counts, aliases = this.aliases;
    if (t === this.last) {
      const held = aliases[this.lastIndex];
      // Counted like the others while the counts are small; past that it already holds its alias.
      if (held !== 0 && counts[this.lastIndex]++ < 0x3fffffff) return held;
    }
    const topics = this.topics, n = topics.length;
    let i = 0, empty = -1, weakest = -1;
    for (; i < n; i++) {
      const c = topics[i];
      if (c === t) break;
      if (c === undefined) { if (empty < 0) empty = i; continue; }
      // The same topic in other bytes (a string topic encoded again after its cache forgot it): the same candidate.
      if (c.length === t.length && sameBytes(c, 0, c.length, t, 0, t.length)) { topics[i] = t; break; }
      if (aliases[i] === 0 && (weakest < 0 || counts[i] < counts[weakest])) weakest = i;
    }
    if (i === n) {
      // New candidate: an empty place, or the least used one without an alias.
      i = empty >= 0 ? empty : weakest;
      if (i < 0) return 0;
      topics[i] = t;
      counts[i] = 0;
    }
    if (++counts[i] >= 0x40000000) for (let k = 0; k < n; k++) counts[k] >>>= 1; // keep counts recent
    this.last = t;
    this.lastIndex = i;
    const held = aliases[i];
    if (held !== 0) return held;
    let alias = 0;
    if (this.assigned < this.max) alias = ++this.assigned;
    else {
      // Take the alias of the least used holder if this topic is used more.
      let holder = -1;
      for (let k = 0; k < n; k++) if (aliases[k] !== 0 && (holder < 0 || counts[k] < counts[holder])) holder = k;
      if (holder < 0 || counts[holder] >= counts[i]) return 0;
      alias = aliases[holder];
      aliases[holder] = 0;
    }
    aliases[i] = alias;
    return -alias;
  }
}
