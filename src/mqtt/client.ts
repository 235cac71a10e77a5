// The public MQTT client: MQTT.js-like calls, Moddable-style callbacks, every buffer sized once.
// It joins a Transport (socket), the pure Session (protocol) and one Timer (keepalive, reconnect).
import Timer from "timer";
import Time from "time";
import { ErrorCode, type ErrorCodeValue, MQTTError } from "./errors";
import { PacketReader, type WillOptions } from "./codec";
import { Session, type SessionListener, type SessionOptions, SessionState } from "./session";
import { Backoff, type BackoffOptions, seedFrom } from "../net/backoff";
import { Message } from "./message";
import { Topic } from "./topic-bytes";
import type { MessageHandler, Subscription } from "./subscriptions";
import type { Transport, TransportListener } from "../net/transport";
import { TcpTransport } from "../net/tcp-transport";
import { NUMBER } from "./kinds";
import { NEVER } from "../net/timer-repeat";
import {
  type ConnectProperties, type DisconnectProperties, Properties, type PublishProperties, type UserProperties, type WillProperties,
} from "./properties";
import type { ServerInfo } from "./server-info";
import { reasonName } from "./errors";

export type { WillOptions };
export { Message, MQTTError, ErrorCode, Topic, Properties, reasonName };
export type { MessageHandler, Subscription, ServerInfo, ConnectProperties, PublishProperties, UserProperties, WillProperties, DisconnectProperties };

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** MQTT 5.0: a `Properties` made once (allocates nothing per publish), or an object (encoded each time). */
  properties?: Properties | PublishProperties;
}

/** subscribe()'s options: the QoS, and in MQTT 5.0 the subscription options and identifier. */
export interface SubscribeOptions {
  qos?: 0 | 1 | 2;
  /** MQTT 5.0: do not send us our own publishes on this filter. */
  noLocal?: boolean;
  /** MQTT 5.0: keep the retain flag of forwarded messages as published. */
  retainAsPublished?: boolean;
  /** MQTT 5.0: 0 retained messages at each subscribe (default), 1 only when the subscription is new, 2 never. */
  retainHandling?: 0 | 1 | 2;
  /** MQTT 5.0: 1..268435455, delivered with each message this subscription matches (Message.subscriptionId). */
  subscriptionIdentifier?: number;
}

/** close()'s MQTT 5.0 DISCONNECT: a reason code (0 normal; 0x04 the broker publishes the will anyway) and properties. */
export interface CloseOptions extends DisconnectProperties {
  reasonCode?: number;
}

/** One broker of a failover list. */
export interface Broker { host: string; port?: number }

export interface MQTTClientOptions extends SessionOptions {
  /** The broker (a name or IP address); or give `brokers`. */
  host?: string;
  port?: number;
  /**
   * Brokers to fail over between, tried in order: a connection that fails or is lost moves to the next, with
   * the reconnect backoff in between. Unacknowledged QoS 1/2 publishes are resent to whichever answers
   * (with a persistent session, point them at brokers that share or bridge it). `host`/`port`, if given, come first.
   */
  brokers?: Broker[];
  /** Largest incoming packet, bytes (default 256). Bigger ones are skipped with a PacketTooLarge error (5.0: the broker is told). */
  rxBuffer?: number;
  /** Reconnect backoff (default min 1 s, max 60 s, factor 2, jitter 0.5), or false to stay down. */
  reconnect?: BackoffOptions | false;
  /** Start connecting in the constructor (default true); false: at the first setLink(true). */
  connect?: boolean;
  /** The connection to use (default: ECMA-419 `embedded:io/socket/tcp`, reading into rxBuffer-sized chunks). */
  transport?: Transport;
}


export class MQTTClient implements SessionListener, TransportListener {
  /** CONNACK accepted; `sessionPresent` tells whether the broker kept our session. */
  onConnect: ((sessionPresent: boolean) => void) | undefined;
  /** Every incoming message (before per-subscription handlers). The Message is reused: copy what you keep. */
  onMessage: MessageHandler | undefined;
  /** Problems: refused connection, dead link, overflow, oversize packet, refused subscription. */
  onError: ((error: MQTTError) => void) | undefined;
  /** The connection ended; a reconnect follows unless close() was called or reconnect is false. */
  onClose: ((error: MQTTError | undefined) => void) | undefined;
  /** A QoS 1/2 publish was acknowledged (PUBACK / PUBCOMP). */
  onDelivered: ((packetId: number) => void) | undefined;
  /** SUBACK: the QoS the broker granted, or 0x80 when it refused the filter. */
  onSubscribe: ((filter: string, granted: number) => void) | undefined;
  /** UNSUBACK for `filter`. */
  onUnsubscribe: ((filter: string) => void) | undefined;
  /**
   * MQTT 5.0 enhanced authentication (with properties.authenticationMethod): the broker sent AUTH with `reasonCode`
   * 0x18 (continue: return the data to answer with) or 0x00 (a re-authentication succeeded).
   */
  onAuth: ((reasonCode: number, method: string | undefined, data: Uint8Array | undefined) => Uint8Array | string | undefined) | undefined;

  /** The broker of the current (or next) connection. */
  host: string;
  port: number;
  /** The failover list (one entry without `brokers`). */
  readonly brokers: readonly Broker[];
  private brokerIndex = 0;
  readonly session: Session;
  /** Connection attempts after the first one (by the backoff or when the link came back). */
  reconnects = 0;

  private readonly reader: PacketReader;
  private readonly transport: Transport;
  private readonly backoff: Backoff | undefined;
  private readonly timer: Timer;
  private closed = false;
  /** Whether the network is up, as setLink last said (false until then with `connect: false`). */
  private linkUp: boolean;
  private transportOpen = false;
  private reconnectAt = -1;
  private opened = false;
  /** host/port are a broker's Server Reference (MQTT 5.0 "Use another server" / "Server moved"), not the list's. */
  private redirected = false;
  /**
   * Time.ticks at the last host event (timer, socket). Publishes record it as their send time instead of
   * reading the clock (30 XS instructions a read): never later than the truth, so a keepalive PINGREQ can
   * only come early, never late.
   */
  private ticks = 0;

  constructor(options: MQTTClientOptions) {
    this.brokers = brokerList(options);
    this.host = this.brokers[0].host;
    this.port = this.brokers[0].port ?? 1883;
    const rx = options.rxBuffer ?? 256;
    if (!(rx >= 16)) throw new MQTTError(ErrorCode.BadArgument, `rxBuffer ${rx} must be at least 16 bytes`);
    this.session = new Session(options, this);
    this.reader = new PacketReader(rx);
    this.transport = options.transport ?? new TcpTransport();
    this.backoff = options.reconnect === false ? undefined : new Backoff({ ...options.reconnect, seed: options.reconnect?.seed ?? seedFrom(options.clientId) });
    this.timer = Timer.repeat(() => this.onTimer(), NEVER); // never fires until scheduled
    Timer.schedule(this.timer);
    this.linkUp = options.connect !== false;
    if (this.linkUp) this.open();
  }

  /** True between CONNACK and the end of the connection. */
  get connected(): boolean { return this.session.connected; }
  /** The client identifier in use (MQTT 5.0: the one the broker assigned, when ours was empty). */
  get clientId(): string { return this.session.connect.clientId; }
  /** What the broker's CONNACK said about itself (MQTT 5.0: limits, availability, assigned identifier...). */
  get server(): ServerInfo { return this.session.server; }
  /** "offline" | "connecting" | "connected" | "closed" */
  get state(): string {
    if (this.closed) return "closed";
    const s = this.session.state;
    return s === SessionState.Connected ? "connected" : s === SessionState.Connecting || this.transportOpen ? "connecting" : "offline";
  }

  // -------------------------------------------------------------------------------------------
  // Application calls

  /**
   * Publishes `payload` (bytes, string, or number written as decimal text) to `topic`. Sent now, or
   * queued while offline. Returns the packet id for QoS 1/2, 0 for QoS 0, -1 if the queue dropped it.
   * Pass `qos` as a number, or a shared options object (a new object per call would allocate). A `Topic`
   * (or one of the last 4 topic strings used) and a bytes or number payload allocate nothing in XS.
   */
  publish(topic: string | Topic, payload: Uint8Array | string | number | null, options?: PublishOptions | number, retain?: boolean): number {
    let qos = 0, r = retain === true;
    if (typeof options === NUMBER) qos = options as number;
    else if (options) {
      qos = (options as PublishOptions).qos ?? 0;
      r = (options as PublishOptions).retain === true;
      // Properties take the 5.0 path; without them both versions share the one below (what 3.1.1 pays per message).
      const properties = (options as PublishOptions).properties;
      if (properties !== undefined) return this.session.publish5(topic, payload, qos, r, this.ticks, properties);
    }
    return this.session.publish(topic, payload, qos, r, this.ticks);
  }

  /**
   * Subscribes to `filter` (wildcards allowed; `$share/group/filter` for a shared subscription); `handler` gets
   * matching messages. Kept across reconnects. Subscribing to the same filter again replaces its QoS, options and
   * handler. `options` is the QoS, or (MQTT 5.0) SubscribeOptions. Returns the subscription's handle.
   */
  subscribe(filter: string, options: 0 | 1 | 2 | SubscribeOptions = 0, handler?: MessageHandler): Subscription {
    if (typeof options === NUMBER) return this.session.subscribe(filter, options as number, handler, Time.ticks);
    const o = options as SubscribeOptions;
    const bits = (o.noLocal ? 0x04 : 0) | (o.retainAsPublished ? 0x08 : 0) | ((o.retainHandling ?? 0) << 4);
    return this.session.subscribe(filter, o.qos ?? 0, handler, Time.ticks, bits, o.subscriptionIdentifier ?? 0);
  }

  /**
   * Ends the subscription to `filter`: its handler gets no more messages, and UNSUBSCRIBE goes out now or on the
   * next connection, even for a filter this client never subscribed (a persistent session may hold one from
   * before a reboot). `onUnsubscribe` reports the UNSUBACK. Throws MQTTError for a bad filter.
   */
  unsubscribe(filter: string): void {
    this.session.unsubscribe(filter, Time.ticks);
  }

  /**
   * Sends DISCONNECT (no will) and closes for good. MQTT 5.0: `options` gives its reason code (0x04: the broker
   * publishes the will) and properties (sessionExpiryInterval, reasonString, userProperties).
   */
  close(options?: CloseOptions): void {
    if (this.closed) return;
    let reason = 0, props: DisconnectProperties | undefined;
    if (options) {
      const { reasonCode, ...rest } = options;
      reason = reasonCode ?? 0;
      if (Object.keys(rest).length > 0) props = rest;
    }
    this.session.disconnect(Time.ticks, reason, props); // may throw for bad options: still open then
    this.closed = true;
    this.drop(undefined);
    Timer.clear(this.timer);
  }

  /**
   * Tells the client whether the network has a link (e.g. from the Wi-Fi manager). While down it does not
   * try to connect; when it comes back it connects at once.
   */
  setLink(up: boolean): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    if (this.closed) return;
    if (up) {
      this.backoff?.reset();
      if (!this.transportOpen) this.open();
    } else {
      this.reconnectAt = -1;
      this.reschedule();
    }
  }

  /** MQTT 5.0: starts a re-authentication with new `data` (AUTH 0x19); the broker's answer comes through onAuth. */
  reauthenticate(data: Uint8Array | string): void {
    this.session.reauthenticate(data, Time.ticks);
  }

  /** Drops the connection now (as if the link failed) and reconnects per the backoff: for tests and fault injection. */
  disconnect(): void {
    if (this.transportOpen) this.drop(new MQTTError(ErrorCode.ConnectionLost, "dropped by the application"));
  }

  // -------------------------------------------------------------------------------------------
  // Connection handling

  private open(): void {
    if (this.closed || !this.linkUp) return;
    this.reconnectAt = -1;
    if (this.opened) this.reconnects++;
    this.opened = true;
    this.transportOpen = true;
    this.reader.reset();
    try {
      this.transport.open(this.host, this.port, this);
    } catch (e) {
      this.transportOpen = false;
      this.lost(new MQTTError(ErrorCode.ConnectionLost, `cannot open a connection to ${this.host}:${this.port}: ${(e as Error).message}`));
      return;
    }
    this.reschedule();
  }

  /** Ends the current connection (if any) and plans the next attempt. */
  private drop(error: MQTTError | undefined): void {
    const wasOpen = this.transportOpen;
    this.transportOpen = false;
    this.transport.close();
    this.session.end();
    if (wasOpen) this.lost(error);
  }

  private lost(error: MQTTError | undefined): void {
    const code = error?.reasonCode, ref = this.session.server.serverReference;
    if ((code === 0x9c || code === 0x9d) && ref && this.follow(ref)) {
      // The broker named another: the next attempt goes there (after it, the list as before).
    } else if (this.redirected || this.brokers.length > 1) {
      // Back to the list after a redirect; else the broker that failed us is suspect: the next one in the list.
      if (this.redirected) this.redirected = false;
      else this.brokerIndex = (this.brokerIndex + 1) % this.brokers.length;
      const b = this.brokers[this.brokerIndex];
      this.host = b.host;
      this.port = b.port ?? 1883;
    }
    try { this.onClose?.(error); } catch (e) { this.report(ErrorCode.CallbackFailed, e); }
    // Without a link there is nothing to retry: setLink(true) reconnects at once.
    if (this.closed || !this.backoff || !this.linkUp) { this.reschedule(); return; }
    this.reconnectAt = Time.ticks + this.backoff.next();
    this.reschedule();
  }

  /** Points the next attempt at a Server Reference ("host", "host:port", the first of a space-separated list). */
  private follow(reference: string): boolean {
    const first = reference.split(" ")[0], colon = first.lastIndexOf(":");
    const hasPort = colon > 0 && first.indexOf("]") < colon; // ("[::1]" is an IPv6 address without a port)
    const host = (hasPort ? first.slice(0, colon) : first).replace(/^\[|\]$/g, "");
    const port = hasPort ? Number(first.slice(colon + 1)) : this.port;
    if (!host || !(port > 0 && port < 65536)) return false;
    this.redirected = true;
    this.host = host;
    this.port = port;
    return true;
  }

  private onTimer(): void {
    // A host callback: nothing may escape it (an exception here aborts the VM on a device).
    try {
      this.onTick();
    } catch (e) {
      this.report(ErrorCode.CallbackFailed, e);
    }
  }

  private onTick(): void {
    if (this.closed) return;
    const now = this.ticks = Time.ticks;
    if (this.reconnectAt >= 0 && now >= this.reconnectAt) {
      this.open();
      return;
    }
    this.session.tick(now);
    this.reschedule();
  }

  /** Points the one timer at the next thing to do: a reconnect or a keepalive deadline. */
  private reschedule(): void {
    if (this.closed) return;
    const now = Time.ticks;
    let delay = this.session.nextDeadline(now);
    if (this.reconnectAt >= 0 && !this.transportOpen) {
      const r = Math.max(0, this.reconnectAt - now);
      delay = delay < 0 ? r : Math.min(delay, r);
    }
    if (delay < 0) Timer.schedule(this.timer);
    else Timer.schedule(this.timer, delay, NEVER);
  }

  // TransportListener
  onTransportConnect(): void {
    this.session.begin(this.transport, this.ticks = Time.ticks);
    this.reschedule();
  }

  onTransportData(): void {
    const reader = this.reader, transport = this.transport, now = this.ticks = Time.ticks;
    // Packet after packet until the reader needs more than the transport holds (or the connection ends).
    while (this.transportOpen) {
      const status = reader.pull(transport);
      if (status === 1) this.session.receive(reader, now);
      else if (status === 0) return;
      else {
        this.onSessionFatal(new MQTTError(-status as ErrorCodeValue, "corrupt packet header from the broker"));
        return;
      }
    }
    // No reschedule here: traffic only moves keepalive deadlines later; an early wake-up just re-arms.
  }

  onTransportWritable(): void {
    this.session.pump(this.ticks = Time.ticks);
  }

  onTransportClose(error: boolean, reason?: string): void {
    if (!this.transportOpen) return;
    this.transportOpen = false;
    const connected = this.session.state !== SessionState.Offline;
    // A broker that does not speak 5.0 may close at our CONNECT without a word (RabbitMQ before 3.13 does).
    const hint = this.session.v5 && this.session.state === SessionState.Connecting
      ? " before its CONNACK: if it does not speak MQTT 5.0, use protocolVersion 4" : "";
    this.session.end();
    const what = reason ?? (!error ? `closed by the broker${hint}` : connected ? `connection reset${hint}` : `cannot connect to ${this.host}:${this.port}`);
    this.lost(new MQTTError(ErrorCode.ConnectionLost, what));
  }

  // SessionListener
  onSessionConnect(sessionPresent: boolean): void {
    this.backoff?.reset();
    this.reschedule();
    try { this.onConnect?.(sessionPresent); } catch (e) { this.report(ErrorCode.CallbackFailed, e); }
  }

  onSessionMessage(m: Message): void {
    // The application's handlers run inside a socket callback: an exception is reported, never let through.
    try {
      this.onMessage?.(m);
      this.session.subscriptions.dispatch(m);
    } catch (e) {
      this.report(ErrorCode.CallbackFailed, e);
    }
  }

  /** Reports an exception thrown by application code; an exception in onError itself is dropped. */
  private report(code: ErrorCodeValue, e: unknown): void {
    try {
      this.onError?.(e instanceof MQTTError ? e : new MQTTError(code, `${(e as Error)?.message ?? e}`));
    } catch {
      // nowhere left to report it
    }
  }

  onSessionDelivered(packetId: number): void {
    try { this.onDelivered?.(packetId); } catch (e) { this.report(ErrorCode.CallbackFailed, e); }
  }

  onSessionSubscribe(subscription: Subscription, granted: number): void {
    try {
      subscription.onGranted?.(granted, subscription);
      this.onSubscribe?.(subscription.filter, granted);
    } catch (e) {
      this.report(ErrorCode.CallbackFailed, e);
    }
  }

  onSessionUnsubscribe(subscription: Subscription): void {
    try { this.onUnsubscribe?.(subscription.filter); } catch (e) { this.report(ErrorCode.CallbackFailed, e); }
  }

  onSessionError(error: MQTTError): void { this.report(error.code, error); }

  onSessionAuth(reasonCode: number, method: string | undefined, data: Uint8Array | undefined): Uint8Array | string | undefined {
    try {
      return this.onAuth?.(reasonCode, method, data);
    } catch (e) {
      this.report(ErrorCode.CallbackFailed, e);
      return undefined;
    }
  }

  onSessionFatal(error: MQTTError): void {
    this.report(error.code, error);
    this.drop(error);
  }
}

export default MQTTClient;

/** `host`/`port` first, then `brokers`; each checked. Throws MQTTError(BadArgument) with what is wrong. */
function brokerList(options: MQTTClientOptions): Broker[] {
  if (!options) throw new MQTTError(ErrorCode.BadArgument, "options are required: at least { host }");
  const list: Broker[] = [];
  if (options.host !== undefined) list.push({ host: options.host, port: options.port });
  if (options.brokers) for (let i = 0; i < options.brokers.length; i++) list.push(options.brokers[i]);
  if (list.length === 0) throw new MQTTError(ErrorCode.BadArgument, "options.host is required (a broker name or IP address), or options.brokers");
  for (let i = 0; i < list.length; i++) {
    const b = list[i];
    if (!b || typeof b.host !== "string" || b.host.length === 0)
      throw new MQTTError(ErrorCode.BadArgument, `broker ${i}: host must be a broker name or IP address`);
    const port = b.port ?? 1883;
    if (!(port > 0 && port < 65536 && port === Math.floor(port))) throw new MQTTError(ErrorCode.BadArgument, `broker ${i} (${b.host}): port ${b.port} is not 1..65535`);
  }
  return list;
}
