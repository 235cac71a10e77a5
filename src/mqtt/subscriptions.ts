// The one subscription table: each filter's text and bytes, requested QoS, where it stands with the broker,
// its handler, and dispatch of incoming messages. The session drives the states; the client and Feeds use
// the handles (`Subscription`) it returns.
import { ErrorCode, MQTTError } from "./errors";
import { filterLength, topicMatches } from "./topic";
import { writeUtf8 } from "./utf8";
import type { Message } from "./message";

export type MessageHandler = (message: Message) => void;

/** Where a subscription stands with the broker. */
export const SubscriptionState = Object.freeze({
  /** SUBSCRIBE to send (new, changed, or after a reconnect to a broker that lost the session). */
  ToSubscribe: 0,
  AwaitSuback: 1,
  Active: 2,
  /** UNSUBSCRIBE to send; messages are no longer dispatched. */
  ToUnsubscribe: 3,
  AwaitUnsuback: 4,
} as const);

const UNSUBSCRIBING = SubscriptionState.ToUnsubscribe;

export class Subscription {
  readonly filter: string;
  /** The filter's UTF-8 bytes, matched against topics without allocating. */
  readonly bytes: Uint8Array;
  qos: number;
  state: number = SubscriptionState.ToSubscribe;
  /** Packet id of the SUBSCRIBE/UNSUBSCRIBE awaiting its ack, and when it was sent (ms ticks). */
  packetId = 0;
  sentAt = 0;
  /** QoS the broker granted in its last SUBACK (-1 before the first). */
  granted = -1;
  handler: MessageHandler | undefined;
  /** MQTT 5.0 subscription options or'ed into the SUBSCRIBE's options byte (no local, retain as published, retain handling << 4). */
  options = 0;
  /** MQTT 5.0 Subscription Identifier sent with the SUBSCRIBE (0: none); messages it matches carry it. */
  subscriptionId = 0;
  /** Called after each SUBACK with the QoS granted (0x80: refused), e.g. to request the last value. */
  onGranted: ((granted: number, subscription: Subscription) => void) | undefined = undefined;
  /** No wildcard and no `$share/`: only the identical topic matches, compared byte for byte. */
  private readonly exact: boolean;

  constructor(filter: string, length: number, qos: number, handler: MessageHandler | undefined) {
    this.filter = filter;
    this.bytes = new Uint8Array(length);
    writeUtf8(this.bytes, 0, filter);
    this.exact = filter.indexOf("+") < 0 && filter.indexOf("#") < 0 && !filter.startsWith("$share/");
    this.qos = qos;
    this.handler = handler;
  }

  /** True if messages on `m`'s topic are for this subscription (it is not being removed and the filter matches). */
  matches(m: Message): boolean {
    if (this.state >= UNSUBSCRIBING) return false;
    const f = this.bytes, n = f.length, t = m.topicBuf, ts = m.topicStart;
    if (!this.exact) return topicMatches(f, 0, n, t, ts, m.topicEnd);
    if (m.topicEnd - ts !== n) return false;
    let i = 0; // outside the loop: XS makes a binding per iteration for `for (let ...)`
    for (; i < n; i++) if (f[i] !== t[ts + i]) return false;
    return true;
  }
}

export class Subscriptions {
  readonly list: Subscription[] = [];
  /** Some subscription may have a SUBSCRIBE or UNSUBSCRIBE to send. */
  pending = false;
  /** Some subscription has had an MQTT 5.0 Subscription Identifier: dispatch then looks at identifiers. */
  identified = false;

  /** The subscription for exactly `filter`, if any. */
  find(filter: string): Subscription | undefined {
    const list = this.list;
    for (let i = 0; i < list.length; i++) if (list[i].filter === filter) return list[i];
    return undefined;
  }

  /**
   * Adds `filter`, or updates its QoS and handler (and subscribes again); throws MQTTError for a bad filter,
   * QoS, or a filter that cannot fit a SUBSCRIBE in `txBuffer` bytes.
   */
  add(filter: string, qos: number, handler: MessageHandler | undefined, txBuffer: number): Subscription {
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new MQTTError(ErrorCode.BadArgument, `qos must be 0, 1 or 2, not ${qos}`);
    let s = this.find(filter);
    if (!s) {
      const n = typeof filter === "string" ? filterLength(filter) : -1;
      if (n < 0) throw new MQTTError(ErrorCode.BadTopic, `"${filter}" is not a valid topic filter`);
      if (n + 7 > txBuffer) throw new MQTTError(ErrorCode.BufferTooShort, `filter "${filter}" does not fit txBuffer ${txBuffer}; raise txBuffer`);
      s = new Subscription(filter, n, qos, handler);
      this.list.push(s);
    } else {
      s.qos = qos;
      s.handler = handler;
      s.state = SubscriptionState.ToSubscribe;
    }
    this.pending = true;
    return s;
  }

  /**
   * An UNSUBSCRIBE for `filter`: its subscription's, or for a filter this client does not know (a persistent
   * session may hold subscriptions made before a reboot; MQTT allows unsubscribing any filter).
   */
  unsubscribe(filter: string, txBuffer: number): Subscription {
    let s = this.find(filter);
    if (!s) {
      const n = typeof filter === "string" ? filterLength(filter) : -1;
      if (n < 0) throw new MQTTError(ErrorCode.BadTopic, `"${filter}" is not a valid topic filter`);
      if (n + 6 > txBuffer) throw new MQTTError(ErrorCode.BufferTooShort, `filter "${filter}" does not fit txBuffer ${txBuffer}; raise txBuffer`);
      s = new Subscription(filter, n, 0, undefined);
      this.list.push(s);
    }
    s.state = SubscriptionState.ToUnsubscribe;
    this.pending = true;
    return s;
  }

  /** The request waiting longest for its SUBACK or UNSUBACK, if any. */
  oldestAwaiting(): Subscription | undefined {
    const list = this.list;
    let oldest: Subscription | undefined;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if ((s.state === SubscriptionState.AwaitSuback || s.state === SubscriptionState.AwaitUnsuback) && (!oldest || s.sentAt < oldest.sentAt)) oldest = s;
    }
    return oldest;
  }

  remove(s: Subscription): void {
    const i = this.list.indexOf(s);
    if (i >= 0) this.list.splice(i, 1);
  }

  /** The subscription waiting for an ack in `state` with `packetId`. */
  awaiting(state: number, packetId: number): Subscription | undefined {
    const list = this.list;
    for (let i = 0; i < list.length; i++) if (list[i].state === state && list[i].packetId === packetId) return list[i];
    return undefined;
  }

  /** True if a pending SUBSCRIBE/UNSUBSCRIBE uses `packetId`. */
  usesId(packetId: number): boolean {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const s = list[i].state;
      if ((s === SubscriptionState.AwaitSuback || s === SubscriptionState.AwaitUnsuback) && list[i].packetId === packetId) return true;
    }
    return false;
  }

  /** The connection ended: requests not acknowledged are sent again on the next one. */
  connectionEnded(): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (s.state === SubscriptionState.AwaitSuback) s.state = SubscriptionState.ToSubscribe;
      else if (s.state === SubscriptionState.AwaitUnsuback) s.state = SubscriptionState.ToUnsubscribe;
    }
    this.pending = true;
  }

  /** The broker kept no session for us: every active subscription is made again. */
  sessionLost(): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) if (list[i].state === SubscriptionState.Active) list[i].state = SubscriptionState.ToSubscribe;
    this.pending = true;
  }

  /**
   * Calls the handler of every subscription whose filter matches the message's topic. MQTT 5.0: a message that
   * names Subscription Identifiers goes to the subscriptions with those (a broker may send one copy per matching
   * subscription, each naming its own), one that names none to the subscriptions without an identifier.
   */
  dispatch(m: Message): void {
    const list = this.list;
    if (!this.identified) {
      // Without identifiers (always so in 3.1.1): by filter alone, the loop each message pays for.
      for (let i = 0; i < list.length; i++) {
        const s = list[i];
        if (s.handler && s.matches(m)) s.handler(m);
      }
      return;
    }
    const ids = m.subscriptionIds;
    let known = false;
    for (let i = 0; i < list.length; i++) {
      const s = list[i], id = s.subscriptionId;
      if (ids === 0 ? id !== 0 : id === 0 || !m.hasSubscriptionId(id)) continue;
      known = true;
      if (s.handler && s.matches(m)) s.handler(m);
    }
    // Identifiers none of ours carries (a filter subscribed again with a new one while the old one's messages
    // were on their way): by filter, rather than to nobody.
    if (ids !== 0 && !known) for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (s.handler && s.matches(m)) s.handler(m);
    }
  }
}
