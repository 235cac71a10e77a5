// The MQTT 3.1.1 / 5.0 protocol state of one client, pure: packets, time and commands come in as arguments,
// bytes go out through an `Output`, events through a `SessionListener`. No socket, no clock, no timers.
// It owns every buffer the protocol needs (tx, in-flight, outbox, QoS 2 receive set), sized once.
import { ErrorCode, type ErrorCodeValue, MQTTError, connackMessages, reasonName } from "./errors";
import {
  type ConnectOptions, type WillOptions, PacketReader, PacketType, decode,
  encodeAck, encodeAckReason, encodeConnect, encodeEmpty, encodeReasonPacket, encodeSubscribe, encodeUnsubscribe, payloadLength, PUBLISH_FIRST,
  remainingLengthSize, writePublish, writePublishHead, writePublishProperties, writePublishTail,
} from "./codec";
import {
  type DisconnectProperties, FoundProperties, type PublishProperties, Properties, Property, PropertySet, encodedProperties, varintSize,
} from "./properties";
import { ServerInfo, binaryProperty, stringProperty } from "./server-info";
import { IncomingAliases, OutgoingAliases, TOO_LONG } from "./topic-aliases";
import { validUtf8 } from "./utf8";
import { EntryKind, Outbox } from "./outbox";
import { Inflight, SlotState } from "./inflight";
import { type MessageHandler, type Subscription, SubscriptionState, Subscriptions } from "./subscriptions";
import { hasControlCharacters } from "./topic";
import { Message } from "./message";
import { packetBytes } from "./packet-buffer";
import { StringCache, type Topic } from "./topic-bytes";
import { NUMBER, STRING } from "./kinds";
import { decimalLength } from "./decimal";

/** Where the session's bytes go: the transport of the current connection. */
export interface Output {
  /** Bytes that can be written now without blocking. */
  writable(): number;
  /**
   * Writes the whole packet, copied before it returns, and returns true; or writes nothing and returns false
   * when the window lacks room for all of it.
   */
  write(packet: Uint8Array): boolean;
}

export interface SessionListener {
  /** CONNACK accepted. */
  onSessionConnect(sessionPresent: boolean): void;
  /** A PUBLISH for the application (after QoS handling; a QoS 2 duplicate is not delivered twice). */
  onSessionMessage(message: Message): void;
  /** A QoS 1/2 publish completed (PUBACK / PUBCOMP). */
  onSessionDelivered(packetId: number): void;
  /** SUBACK for `subscription`: granted QoS, or 0x80 for failure (the subscription is then removed). */
  onSessionSubscribe(subscription: Subscription, granted: number): void;
  /** UNSUBACK for `subscription` (already removed from the table). */
  onSessionUnsubscribe(subscription: Subscription): void;
  /** Something went wrong that does not end the connection (overflow, oversize, refused subscription). */
  onSessionError(error: MQTTError): void;
  /** The connection must end: refused CONNACK, protocol violation, ping or CONNACK timeout. */
  onSessionFatal(error: MQTTError): void;
  /**
   * MQTT 5.0 enhanced authentication: the broker sent AUTH (0x18 Continue authentication, or 0x00 after a
   * re-authentication) with `method` and `data`. Return the data to answer a 0x18 with (undefined: none to give).
   */
  onSessionAuth?(reasonCode: number, method: string | undefined, data: Uint8Array | undefined): Uint8Array | string | undefined;
}

export type OverflowPolicy = "drop-oldest" | "drop-newest";

export interface SessionOptions extends Omit<ConnectOptions, "keepalive" | "cleanSession"> {
  keepalive?: number;
  /** MQTT 3.1.1: Clean Session. MQTT 5.0: Clean Start (and, without a sessionExpiryInterval, false keeps the session forever). */
  cleanSession?: boolean;
  /** Same as protocolVersion: 4 (MQTT 3.1.1, default), 5 (MQTT 5.0), 3 (MQTT 3.1). */
  protocol?: 3 | 4 | 5;
  /** Largest incoming packet body, bytes (default 256): an MQTT 5.0 CONNECT tells the broker (Maximum Packet Size). */
  rxBuffer?: number;
  /** MQTT 5.0: topics that may get an alias when published at QoS 0 (default 4; the broker's maximum caps it; 0: none). */
  topicAliases?: number;
  /** MQTT 5.0: bytes kept per incoming topic alias (default 64); the broker may use `properties.topicAliasMaximum` (default 4) of them. */
  topicAliasBytes?: number;
  /** Largest outgoing packet, bytes (default 128). */
  txBuffer?: number;
  /** Outgoing QoS 1/2 messages awaiting acknowledgement (default 2). */
  inflight?: number;
  /** Bytes for packets waiting for the connection or window space (default 512). */
  queue?: number;
  /** What a full queue drops (default "drop-oldest"). */
  overflow?: OverflowPolicy;
  /** Incoming QoS 2 packet ids remembered for exactly-once delivery (default 20: mosquitto sends up to 20). */
  inflightIn?: number;
  /** Queue QoS 0 publishes while offline (default true); false drops them. */
  queueQos0?: boolean;
  /** ms to wait for CONNACK (default 10000). */
  connectTimeout?: number;
  /** ms to wait for a SUBACK or UNSUBACK before reporting it and reconnecting (default: connectTimeout). */
  ackTimeout?: number;
  /**
   * Treat topics with control characters (U+0001..U+001F, U+007F..U+009F) as a protocol violation (MQTT 3.1.1
   * 4.7.3: they SHOULD NOT appear and a receiver MAY close). Default false.
   */
  strictTopics?: boolean;
}

export const SessionState = Object.freeze({ Offline: 0, Connecting: 1, Connected: 2 } as const);
const CONNECTED = SessionState.Connected;
/** Largest txBuffer: one packet buffer's size limit (remaining lengths past it would need streaming). */
const MAX_TX = 65535;

const CONTROL_CAPACITY = 16;

export class Session {
  readonly listener: SessionListener;
  readonly connect: ConnectOptions;
  /** The packet being written: a packet buffer resized to each packet (see packet-buffer.ts). */
  readonly tx: Uint8Array;
  private readonly txBuffer: ArrayBuffer;
  readonly txSize: number;
  /**
   * The topic whose bytes tx holds after a fixed header of `txHeader` bytes (2 or 3), from the last PUBLISH
   * written there, or undefined. Publishing to the same topic again with a header of the same size writes only
   * the header and what follows the topic. Only publishes and the rare packets that clear this use tx: acks
   * and pings have their own buffer.
   */
  private txTopic: Uint8Array | undefined = undefined;
  private txHeader = 0;
  /** Acks and PINGREQs (2 or 4 bytes; 5 with an MQTT 5.0 reason code). */
  private readonly ack = packetBytes(5);
  private readonly ackBuffer = this.ack.buffer as ArrayBuffer;
  readonly inflight: Inflight;
  readonly outbox: Outbox;
  readonly overflow: OverflowPolicy;
  readonly queueQos0: boolean;
  readonly connectTimeout: number;
  readonly ackTimeout: number;
  readonly strictTopics: boolean;
  /** The one decoded packet, reused: handed to the application as its Message. */
  readonly packet = new Message();
  /** Topic strings published lately and their bytes, so publishing by string walks no string. */
  private topics: StringCache | undefined = undefined; // made on the first string topic published

  state: number = SessionState.Offline;
  private out: Output | undefined;
  private nextId = 0;
  private lastSent = 0;
  private lastReceived = 0;
  private pingSentAt = -1;
  private connectStartedAt = 0;
  /** Acks and PINGREQs waiting for window space: (type << 16) | packetId. */
  private readonly control = new Uint32Array(CONTROL_CAPACITY);
  private controlCount = 0;
  /** Incoming QoS 2 ids between PUBREC and PUBREL (MQTT-4.3.3-2). */
  private readonly pubrelPending: Uint16Array;
  private pubrelPendingCount = 0;
  /** Subscriptions, kept across reconnects. */
  readonly subscriptions = new Subscriptions();
  /** MQTT 5.0 on this session (protocolVersion 5). */
  readonly v5: boolean;
  /** What the broker's last CONNACK said (MQTT 5.0; defaults for 3.1.1). */
  readonly server: ServerInfo;
  /** Keep alive in force, seconds: ours, or the broker's Server Keep Alive (5.0). */
  keepalive: number;
  private readonly incomingAliases: IncomingAliases | undefined;
  private readonly outgoingAliases: OutgoingAliases | undefined;
  /** Counters for the application and the simulator's view. */
  sent = 0;
  receivedCount = 0;
  dropped = 0;

  constructor(options: SessionOptions, listener: SessionListener) {
    this.listener = listener;
    const keepalive = options.keepalive ?? 60;
    if (!(keepalive >= 0 && keepalive <= 65535)) throw new MQTTError(ErrorCode.BadArgument, `keepalive ${keepalive} s is outside 0..65535`);
    this.keepalive = keepalive;
    if (options.protocol !== undefined && options.protocolVersion !== undefined && options.protocol !== options.protocolVersion)
      throw new MQTTError(ErrorCode.BadArgument, `protocol ${options.protocol} and protocolVersion ${options.protocolVersion} disagree: give one`);
    const v = options.protocolVersion ?? options.protocol ?? 4;
    if (v !== 3 && v !== 4 && v !== 5) throw new MQTTError(ErrorCode.BadArgument, `protocolVersion ${v} is not 3 (MQTT 3.1), 4 (MQTT 3.1.1) or 5 (MQTT 5.0)`);
    const cleanSession = options.cleanSession ?? true;
    this.v5 = this.packet.v5 = v === 5;
    if (v === 5) this.packet.found = new FoundProperties(); // made now, not at the first message
    // A 3.1.1 broker says nothing of itself: its sessions share one frozen default (no slots per client).
    this.server = v === 5 ? new ServerInfo() : SERVER_3_1_1;
    if (v !== 5 && (options.properties !== undefined || options.will?.properties !== undefined))
      throw new MQTTError(ErrorCode.BadArgument, "properties (and will.properties) are MQTT 5.0: set protocolVersion: 5");
    this.connect = {
      clientId: options.clientId,
      keepalive,
      cleanSession,
      username: options.username,
      password: options.password,
      will: options.will,
      protocolVersion: v,
      properties: v === 5 ? connectProperties(options, cleanSession) : undefined,
    };
    if (v === 3 && !(options.clientId.length >= 1 && options.clientId.length <= 23))
      throw new MQTTError(ErrorCode.BadArgument, `MQTT 3.1 needs a clientId of 1 to 23 characters, not "${options.clientId}"`);
    if (options.password !== undefined && options.username === undefined && v !== 5)
      throw new MQTTError(ErrorCode.BadArgument, "a password needs a username: MQTT 3.1.1 sends a password only with a user name (MQTT-3.1.2-22)");
    // (MQTT 5.0 may resume it under the identifier the broker assigns.)
    if (!this.connect.cleanSession && !options.clientId && v !== 5)
      throw new MQTTError(ErrorCode.BadArgument, "a persistent session (cleanSession: false) needs a clientId");
    const txSize = options.txBuffer ?? 128;
    const inflight = options.inflight ?? 2;
    const queue = options.queue ?? 512;
    if (!(txSize >= 16 && txSize <= MAX_TX)) throw new MQTTError(ErrorCode.BadArgument, `txBuffer ${txSize} must be 16..${MAX_TX} bytes`);
    if (!(inflight >= 1 && inflight <= 1024)) throw new MQTTError(ErrorCode.BadArgument, `inflight ${inflight} must be 1..1024`);
    if (!(queue >= 0)) throw new MQTTError(ErrorCode.BadArgument, `queue ${queue} must be >= 0 bytes`);
    this.txSize = txSize;
    this.tx = packetBytes(txSize);
    this.txBuffer = this.tx.buffer as ArrayBuffer;
    this.inflight = new Inflight(inflight, txSize);
    this.outbox = new Outbox(queue);
    this.overflow = options.overflow ?? "drop-oldest";
    if (this.overflow !== "drop-oldest" && this.overflow !== "drop-newest")
      throw new MQTTError(ErrorCode.BadArgument, `overflow must be "drop-oldest" or "drop-newest", not "${this.overflow}"`);
    this.queueQos0 = options.queueQos0 ?? true;
    this.connectTimeout = options.connectTimeout ?? 10000;
    this.ackTimeout = options.ackTimeout ?? this.connectTimeout;
    this.strictTopics = options.strictTopics === true;
    this.pubrelPending = new Uint16Array(options.inflightIn ?? 20);
    if (v === 5) {
      const aliasesIn = this.connect.properties!.topicAliasMaximum ?? 0, aliasesOut = options.topicAliases ?? 4;
      if (!(aliasesOut >= 0 && aliasesOut <= 1024)) throw new MQTTError(ErrorCode.BadArgument, `topicAliases ${aliasesOut} must be 0..1024`);
      const slot = options.topicAliasBytes ?? 64;
      if (!(slot >= 1 && slot <= 65535)) throw new MQTTError(ErrorCode.BadArgument, `topicAliasBytes ${slot} must be 1..65535`);
      this.incomingAliases = aliasesIn > 0 ? new IncomingAliases(aliasesIn, slot) : undefined;
      this.outgoingAliases = aliasesOut > 0 ? new OutgoingAliases(aliasesOut) : undefined;
    }
    const will = options.will;
    if (v === 5 && will?.properties?.payloadFormatIndicator && will.payload instanceof Uint8Array && !validUtf8(will.payload, 0, will.payload.length))
      throw new MQTTError(ErrorCode.BadUtf8, "will.properties.payloadFormatIndicator says the will payload is UTF-8, but its bytes are not");
    // Checked now so a bad will or password fails at construction, not at every reconnect.
    const n = encodeConnect(this.tx, 0, this.connect);
    if (n < 0) throw new MQTTError(-n as ErrorCodeValue, "CONNECT options (clientId, will, username, password) do not encode; check them and txBuffer");
  }

  get connected(): boolean { return this.state === SessionState.Connected; }

  // -------------------------------------------------------------------------------------------
  // Connection lifecycle

  /** The transport is connected: send CONNECT. */
  begin(out: Output, now: number): void {
    this.out = out;
    this.state = SessionState.Connecting;
    this.connectStartedAt = now;
    this.lastReceived = now;
    this.pingSentAt = -1;
    this.controlCount = 0;
    this.txTopic = undefined;
    this.keepalive = this.connect.keepalive;
    if (this.v5) {
      this.server.reset();
      this.inflight.limit = this.inflight.size;
      this.incomingAliases?.clear();
      this.outgoingAliases?.begin(0);
    }
    this.txBuffer.resize(this.txSize);
    this.txBuffer.resize(encodeConnect(this.tx, 0, this.connect));
    this.lastSent = now;
    this.sent++;
    if (!out.write(this.tx)) this.listener.onSessionFatal(new MQTTError(ErrorCode.BufferTooShort, `the socket has no room for a ${this.tx.length}-byte CONNECT`));
  }

  /** The transport is gone. State that must survive (in-flight, queue, QoS 2 ids, subscriptions) stays. */
  end(): void {
    this.out = undefined;
    this.state = SessionState.Offline;
    this.controlCount = 0;
    this.pingSentAt = -1;
    this.subscriptions.connectionEnded();
  }

  /** Checks time-outs; call at `nextDeadline`. Reports a dead link through listener.onSessionFatal. */
  tick(now: number): void {
    if (this.state === SessionState.Connecting) {
      if (now - this.connectStartedAt >= this.connectTimeout)
        this.listener.onSessionFatal(new MQTTError(ErrorCode.ConnectTimeout, `no CONNACK within ${this.connectTimeout} ms`));
      return;
    }
    if (this.state !== SessionState.Connected) return;
    const late = this.subscriptions.oldestAwaiting();
    if (late && now - late.sentAt >= this.ackTimeout) {
      const what = late.state === SubscriptionState.AwaitSuback ? "SUBACK" : "UNSUBACK";
      this.listener.onSessionFatal(new MQTTError(ErrorCode.AckTimeout, `no ${what} for "${late.filter}" within ${this.ackTimeout} ms; reconnecting to ask again`));
      return;
    }
    const k = this.keepalive * 1000;
    if (k === 0) return;
    if (this.pingSentAt >= 0) {
      // Half a keepalive for the answer: a link that dies is found within 1.5 x keepalive.
      if (now - this.pingSentAt >= k / 2) {
        this.listener.onSessionFatal(new MQTTError(ErrorCode.PingTimeout, `nothing from the broker for ${now - this.lastReceived} ms (keepalive ${this.keepalive} s)`));
      }
      return;
    }
    if (now - this.lastSent >= k || now - this.lastReceived >= k) {
      this.pingSentAt = now;
      this.sendControl(PacketType.PINGREQ, 0, now);
    }
  }

  /** ms from `now` until tick() has something to check. */
  nextDeadline(now: number): number {
    if (this.state === SessionState.Connecting) return Math.max(0, this.connectStartedAt + this.connectTimeout - now);
    if (this.state !== SessionState.Connected) return -1;
    const late = this.subscriptions.oldestAwaiting();
    const ack = late ? Math.max(0, late.sentAt + this.ackTimeout - now) : -1;
    const k = this.keepalive * 1000;
    if (k === 0) return ack;
    const keep = this.pingSentAt >= 0 ? Math.max(0, this.pingSentAt + k / 2 - now) : Math.max(0, Math.min(this.lastSent, this.lastReceived) + k - now);
    return ack >= 0 && ack < keep ? ack : keep;
  }

  // -------------------------------------------------------------------------------------------
  // Incoming packets

  /** Handles the packet `reader` just completed. */
  receive(reader: PacketReader, now: number): void {
    const p = this.packet;
    const status = decode(reader, p);
    this.lastReceived = now;
    this.pingSentAt = -1; // any packet proves the link is alive
    this.receivedCount++;
    if (status === -ErrorCode.PacketTooLarge) {
      const max = this.connect.properties?.maximumPacketSize ?? 0, size = 1 + remainingLengthSize(reader.length) + reader.length;
      if (max > 0 && size > max) {
        // 5.0: the broker was told our Maximum Packet Size; going over it is a protocol error (3.1.2.11.4).
        this.protocolError(0x95, `${packetName(reader.type)} of ${size} bytes over the Maximum Packet Size ${max} we announced (rxBuffer ${reader.capacity})`, now);
        return;
      }
      if (p.type === PacketType.PUBLISH && p.topicEnd > 0 && (p.qos === 0 || p.packetId !== 0)) this.oversizePublish(reader, now);
      else {
        // Not even its topic and packet id fit: it cannot be acknowledged or skipped safely.
        this.listener.onSessionFatal(new MQTTError(ErrorCode.PacketTooLarge,
          `${packetName(reader.type)} of ${reader.length} bytes does not fit rxBuffer ${reader.capacity}; raise rxBuffer`));
      }
      return;
    }
    if (status < 0) {
      this.listener.onSessionFatal(new MQTTError(-status as ErrorCodeValue, `${packetName(reader.type)} (${reader.length} bytes) from the broker`));
      return;
    }
    if (this.state === SessionState.Connecting) {
      if (p.type === PacketType.AUTH && this.v5) { this.auth(p, now); return; }
      if (p.type !== PacketType.CONNACK) {
        this.listener.onSessionFatal(new MQTTError(ErrorCode.ProtocolViolation, `${packetName(p.type)} before CONNACK`));
        return;
      }
      this.connack(p, now);
      return;
    }
    switch (p.type) {
      case PacketType.PUBLISH: this.publishIn(p, now); break;
      // (A 5.0 reason >= 0x80 ends the exchange: tested here, in 3.1.1 too, where it is 0: 6 XS instructions an ack.)
      case PacketType.PUBACK:
        if (p.reasonCode >= 0x80) this.publishFailed(p);
        else this.ackOut(PacketType.PUBACK, p.packetId, SlotState.AwaitPuback);
        break;
      case PacketType.PUBREC:
        if (p.reasonCode >= 0x80) this.publishFailed(p);
        else this.pubrec(p.packetId, now);
        break;
      case PacketType.PUBCOMP:
        if (p.reasonCode >= 0x80) this.publishFailed(p);
        else this.ackOut(PacketType.PUBCOMP, p.packetId, SlotState.AwaitPubcomp);
        break;
      case PacketType.PUBREL: this.pubrel(p.packetId, now); break;
      case PacketType.SUBACK: this.suback(p); break;
      case PacketType.UNSUBACK: this.unsuback(p); break;
      case PacketType.PINGRESP: break;
      case PacketType.DISCONNECT:
        if (!this.v5) {
          this.listener.onSessionFatal(new MQTTError(ErrorCode.ProtocolViolation, "the broker sent DISCONNECT, which only clients send in MQTT 3.1.1"));
          return;
        }
        this.serverDisconnect(p);
        return;
      case PacketType.AUTH: this.auth(p, now); break;
      case PacketType.CONNACK:
        this.listener.onSessionFatal(new MQTTError(ErrorCode.ProtocolViolation, "the broker sent a second CONNACK on this connection (MQTT-3.2.0-1: one per connection)"));
        return;
      default:
        this.listener.onSessionFatal(new MQTTError(ErrorCode.ProtocolViolation, `the broker sent ${packetName(p.type)}, which only clients send`));
        return;
    }
    this.pump(now);
  }

  private connack(p: Message, now: number): void {
    if (this.v5) this.server.read(p);
    if (p.returnCode !== 0) {
      this.listener.onSessionFatal(this.v5 ? this.refused5(p)
        : new MQTTError(ErrorCode.ConnectionRefused, connackText(p.returnCode), p.returnCode));
      return;
    }
    if (this.v5 && p.sessionPresent && this.connect.cleanSession) {
      this.state = SessionState.Connected; // so the DISCONNECT goes out
      this.protocolError(0x82, "CONNACK says session present to a clean start (MQTT-3.2.2-4 says close)", now);
      return;
    }
    if (this.v5) this.accepted5(p);
    this.state = SessionState.Connected;
    if (!p.sessionPresent) {
      // The broker has no state for us: its QoS 2 ids are gone and subscriptions must be made again.
      this.pubrelPendingCount = 0;
      this.subscriptions.sessionLost();
    }
    if (this.v5 && !p.sessionPresent) this.completeReceived();
    this.inflight.rewind(this.v5 && !p.sessionPresent);
    this.listener.onSessionConnect(p.sessionPresent);
    this.pump(now);
  }

  private publishIn(p: Message, now: number): void {
    if (this.v5 && !this.resolve5(p, now)) return;
    if (this.strictTopics && hasControlCharacters(p.topicBuf, p.topicStart, p.topicEnd)) {
      this.listener.onSessionFatal(new MQTTError(ErrorCode.ProtocolViolation, "a PUBLISH topic with control characters (strictTopics is on)"));
      return;
    }
    const id = p.packetId;
    if (p.qos === 2) {
      if (this.awaitsPubrel(id)) { this.sendControl(PacketType.PUBREC, id, now); return; }
      this.listener.onSessionMessage(p);
      this.expectPubrel(id);
      this.sendControl(PacketType.PUBREC, id, now);
      return;
    }
    this.listener.onSessionMessage(p);
    if (p.qos === 1) this.sendControl(PacketType.PUBACK, id, now);
  }

  private oversizePublish(reader: PacketReader, now: number): void {
    const p = this.packet;
    this.listener.onSessionError(new MQTTError(ErrorCode.PacketTooLarge,
      `PUBLISH of ${reader.length} bytes > rxBuffer ${reader.capacity}; dropped. Raise rxBuffer to receive it`));
    this.dropped++;
    // Acknowledge it anyway, or the broker would send it again forever.
    if (p.qos === 1) this.sendControl(PacketType.PUBACK, p.packetId, now);
    else if (p.qos === 2) {
      if (!this.awaitsPubrel(p.packetId)) this.expectPubrel(p.packetId);
      this.sendControl(PacketType.PUBREC, p.packetId, now);
    }
    this.pump(now);
  }

  /**
   * PUBACK or PUBCOMP for an outgoing publish. An ack of the wrong kind for an id in flight is never ignored
   * (the slot would stay taken and, since the queue goes out in order, nothing after it would leave):
   * a PUBACK for a QoS 2 publish is a delivery the broker downgraded to QoS 1 (RabbitMQ does this), accepted
   * and reported; any other mismatch is a protocol violation that ends the connection.
   */
  private ackOut(type: number, id: number, expected: number): void {
    const fl = this.inflight, i = fl.find(id);
    if (i < 0) return; // not in flight: a late duplicate, nothing to do
    const state = fl.state(i);
    if (state === expected) {
      fl.release(i);
      this.listener.onSessionDelivered(id);
    } else if (type === PacketType.PUBACK && state === SlotState.AwaitPubrec) {
      fl.release(i);
      this.listener.onSessionError(new MQTTError(ErrorCode.QosDowngraded,
        `the broker answered QoS 2 publish ${id} with PUBACK: it took the message at QoS 1 (at least once, a duplicate is possible)`));
      this.listener.onSessionDelivered(id);
    } else if (state !== SlotState.PublishToSend && state !== SlotState.PubrelToSend) {
      // (Those two wait to go out again after a reconnect: an ack from before it is stale, not wrong.)
      this.wrongAck(type, id, state);
    }
  }

  private pubrec(id: number, now: number): void {
    const i = this.inflight.find(id);
    const state = i >= 0 ? this.inflight.state(i) : -1;
    if (state === SlotState.AwaitPubrec || state === SlotState.AwaitPubcomp) {
      this.inflight.setState(i, SlotState.PubrelToSend);
      return; // pump() sends the PUBREL in order
    }
    if (i < 0) this.sendControl(PacketType.PUBREL, id, now); // unknown id: release it so the broker can finish
    else if (state === SlotState.AwaitPuback) this.wrongAck(PacketType.PUBREC, id, state);
  }

  private wrongAck(type: number, id: number, state: number): void {
    const waitsFor = state === SlotState.AwaitPuback ? "PUBACK" : state === SlotState.AwaitPubrec ? "PUBREC" : "PUBCOMP";
    this.listener.onSessionFatal(new MQTTError(ErrorCode.ProtocolViolation,
      `${packetName(type)} for publish ${id}, which waits for ${waitsFor}; reconnecting resends it`));
  }

  private pubrel(id: number, now: number): void {
    this.pubrelArrived(id);
    this.sendControl(PacketType.PUBCOMP, id, now);
  }

  private suback(p: Message): void {
    const subs = this.subscriptions, sub = subs.awaiting(SubscriptionState.AwaitSuback, p.packetId);
    if (!sub) return;
    const granted = p.buf[p.payloadStart];
    sub.granted = granted;
    if (granted >= 0x80) {
      subs.remove(sub);
      this.listener.onSessionSubscribe(sub, granted);
      this.listener.onSessionError(new MQTTError(ErrorCode.SubscribeFailed, this.v5
        ? `broker refused "${sub.filter}": SUBACK ${reasonName(granted, PacketType.SUBACK)}${this.reasonString(p)}`
        : `broker refused "${sub.filter}" (SUBACK 0x80)`, granted));
      return;
    }
    sub.state = SubscriptionState.Active;
    this.listener.onSessionSubscribe(sub, granted);
    if (granted < sub.qos)
      this.listener.onSessionError(new MQTTError(ErrorCode.QosDowngraded, `broker granted QoS ${granted} for "${sub.filter}", not the ${sub.qos} asked for`, granted));
  }

  private unsuback(p: Message): void {
    const sub = this.subscriptions.awaiting(SubscriptionState.AwaitUnsuback, p.packetId);
    if (!sub) return;
    this.subscriptions.remove(sub);
    const code = this.v5 ? p.buf[p.payloadStart] : 0;
    if (code >= 0x80) {
      this.listener.onSessionError(new MQTTError(ErrorCode.UnsubscribeFailed,
        `broker refused to unsubscribe "${sub.filter}": UNSUBACK ${reasonName(code)}${this.reasonString(p)}`, code));
      return;
    }
    this.listener.onSessionUnsubscribe(sub);
  }

  // -------------------------------------------------------------------------------------------
  // MQTT 5.0

  /** `: "reason string"` of a checked packet that has one, else "". */
  private reasonString(p: Message): string {
    const text = p.reasonString; // read at the offset the decoder found, not searched for again
    return text === undefined ? "" : `: "${text}"`;
  }

  /** The error for a 5.0 CONNACK that refused us. */
  private refused5(p: Message): MQTTError {
    const code = p.reasonCode, server = this.server;
    let text = `CONNACK ${reasonName(code)}${server.reasonString ? `: "${server.reasonString}"` : ""}`;
    if (p.propertiesEnd === 0 && code === 0x84) text += " (the broker answered in MQTT 3.1.1: it does not speak 5.0; use protocolVersion 4)";
    else if (server.serverReference && (code === 0x9c || code === 0x9d)) text += `; it points to ${server.serverReference}`;
    else if (code === 0x8c && this.connect.properties?.authenticationMethod)
      text += ` (method "${this.connect.properties.authenticationMethod}")`;
    return new MQTTError(code === 0x84 && p.propertiesEnd === 0 ? ErrorCode.NotSupported : ErrorCode.ConnectionRefused, text, code);
  }

  /** A 5.0 CONNACK accepted us: apply what the broker said. */
  private accepted5(p: Message): void {
    const server = this.server, method = this.connect.properties?.authenticationMethod;
    // Enhanced authentication may end with the broker's last data in the CONNACK (e.g. SCRAM's server signature).
    if (method !== undefined) this.listener.onSessionAuth?.(0, method, binaryProperty(p, Property.AuthenticationData));
    // Reconnects resume the session under the identifier the broker gave.
    if (server.assignedClientIdentifier !== undefined) this.connect.clientId = server.assignedClientIdentifier;
    if (server.serverKeepAlive >= 0) this.keepalive = server.serverKeepAlive;
    const fl = this.inflight;
    fl.limit = server.receiveMaximum < fl.size ? server.receiveMaximum : fl.size;
    this.outgoingAliases?.begin(server.topicAliasMaximum);
  }

  /**
   * Resolves a 5.0 PUBLISH's topic alias and checks a UTF-8 payload. False when it must not be delivered (it was
   * acknowledged with a reason, or the connection is ending).
   */
  private resolve5(p: Message, now: number): boolean {
    p.topicBuf = p.buf; // back from the alias table, where the last message's topic may have been
    const found = p.found!, a = found.topicAlias;
    if (a !== 0) {
      const aliases = this.incomingAliases;
      if (!aliases || a > aliases.count) {
        this.protocolError(0x94, `the broker used topic alias ${a}; we allow ${aliases ? aliases.count : 0} (properties.topicAliasMaximum)`, now);
        return false;
      }
      if (p.topicEnd > p.topicStart) {
        if (!aliases.set(a, p.buf, p.topicStart, p.topicEnd))
          this.listener.onSessionError(new MQTTError(ErrorCode.PacketTooLarge,
            `topic of ${p.topicEnd - p.topicStart} bytes for alias ${a} exceeds topicAliasBytes ${aliases.slot}: messages sent by that alias alone will be dropped; raise topicAliasBytes`));
      } else {
        const n = aliases.length(a);
        if (n === 0) {
          this.protocolError(0x94, `the broker sent topic alias ${a} alone before naming its topic`, now);
          return false;
        }
        if (n === TOO_LONG) {
          this.dropIn(p, 0x83, `a message by topic alias ${a}, whose topic did not fit topicAliasBytes ${aliases.slot}; raise topicAliasBytes`, now);
          return false;
        }
        p.topicBuf = aliases.bytes;
        p.topicStart = (a - 1) * aliases.slot;
        p.topicEnd = p.topicStart + n;
      }
    }
    if (found.payloadFormat === 1 && !validUtf8(p.buf, p.payloadStart, p.payloadEnd)) {
      this.dropIn(p, 0x99, "a message whose payload format says UTF-8 but whose payload is not (0x99 Payload format invalid)", now);
      return false;
    }
    return true;
  }

  /** Refuses an incoming 5.0 PUBLISH: reported, and acknowledged with `reason` so the broker does not resend it. */
  private dropIn(p: Message, reason: number, what: string, now: number): void {
    this.dropped++;
    this.listener.onSessionError(new MQTTError(ErrorCode.MalformedPacket, `dropped ${what}`, reason));
    if (p.qos === 1) this.sendControlReason(PacketType.PUBACK, p.packetId, reason, now);
    else if (p.qos === 2) this.sendControlReason(PacketType.PUBREC, p.packetId, reason, now);
  }

  /**
   * Whether a PUBLISH made before this CONNACK (queued, or in flight from another connection) may go to this
   * broker: a packet over its Maximum Packet Size is dropped, a retain flag it cannot keep is cleared, a QoS it
   * does not take is lowered to 1 (or the packet dropped at Maximum QoS 0); each reported through onSessionError.
   */
  private allowed(b: Uint8Array, at: number, size: number, id: number): boolean {
    const first = b[at], server = this.server, qos = (first >> 1) & 3;
    if ((first >> 4) !== PacketType.PUBLISH) return true;
    if (server.maximumPacketSize > 0 && size > server.maximumPacketSize) {
      this.dropped++;
      this.listener.onSessionError(new MQTTError(ErrorCode.BufferTooShort,
        `a ${size}-byte PUBLISH queued before this connection exceeds the broker's Maximum Packet Size ${server.maximumPacketSize}: dropped`, 0x95, id || undefined));
      return false;
    }
    if (qos > server.maximumQoS && server.maximumQoS === 0) {
      this.dropped++;
      this.listener.onSessionError(new MQTTError(ErrorCode.NotSupported,
        `a QoS ${qos} PUBLISH queued before this connection: the broker takes QoS 0 only (CONNACK Maximum QoS): dropped`, 0x9b, id || undefined));
      return false;
    }
    if (qos > server.maximumQoS) {
      b[at] = (first & ~6) | 2;
      this.listener.onSessionError(new MQTTError(ErrorCode.QosDowngraded,
        `a QoS 2 PUBLISH queued before this connection goes at QoS 1: the broker takes no more (CONNACK Maximum QoS)`, 1, id || undefined));
    }
    if ((first & 1) !== 0 && !server.retainAvailable) {
      b[at] &= ~1;
      this.listener.onSessionError(new MQTTError(ErrorCode.NotSupported,
        "a retained PUBLISH queued before this connection goes without retain: the broker keeps none (CONNACK Retain Available 0)", 0x9a, id || undefined));
    }
    return true;
  }

  /**
   * A 5.0 broker without our session: QoS 2 publishes it acknowledged with PUBREC are its to deliver (it has them),
   * and a PUBREL into the new session would only be refused: they are complete.
   */
  private completeReceived(): void {
    const fl = this.inflight;
    for (let i = 0; i < fl.size; i++) {
      const state = fl.state(i);
      if (state !== SlotState.PubrelToSend && state !== SlotState.AwaitPubcomp) continue;
      const id = fl.id(i);
      fl.release(i);
      this.listener.onSessionDelivered(id);
    }
  }

  /** A 5.0 protocol error: DISCONNECT with `reason` (4.13.1), then the connection ends. */
  private protocolError(reason: number, what: string, now: number): void {
    this.disconnect(now, reason);
    this.listener.onSessionFatal(new MQTTError(ErrorCode.ProtocolViolation, `${what} (${reasonName(reason)})`, reason));
  }

  /** PUBACK, PUBREC or PUBCOMP with a reason >= 0x80: the exchange ends and the message was not taken. */
  private publishFailed(p: Message): void {
    const id = p.packetId, i = this.inflight.find(id);
    if (i < 0) return;
    this.inflight.release(i);
    this.dropped++;
    const text = `${packetName(p.type)} ${reasonName(p.reasonCode)}${this.reasonString(p)} for publish ${id}`;
    this.listener.onSessionError(new MQTTError(ErrorCode.PublishFailed, p.type === PacketType.PUBCOMP
      ? `${text} (the broker had taken it at PUBREC, then lost the exchange)` : text, p.reasonCode, id));
  }

  /** The broker ended the connection with DISCONNECT: why, and where to go (Server Reference) when it says. */
  private serverDisconnect(p: Message): void {
    const code = p.reasonCode, ref = stringProperty(p, Property.ServerReference);
    this.server.serverReference = ref;
    this.listener.onSessionFatal(new MQTTError(ErrorCode.Disconnected,
      `DISCONNECT ${reasonName(code, PacketType.DISCONNECT)}${this.reasonString(p)}${ref ? `; it points to ${ref}` : ""}`, code));
  }

  /** AUTH from the broker (4.12): answer a Continue with the application's data. */
  private auth(p: Message, now: number): void {
    const method = stringProperty(p, Property.AuthenticationMethod), ours = this.connect.properties?.authenticationMethod;
    if (ours === undefined || method !== ours) {
      this.protocolError(0x82, `the broker sent AUTH with method "${method}" but we ${ours ? `use "${ours}"` : "did not ask for enhanced authentication"}`, now);
      return;
    }
    const reply = this.listener.onSessionAuth?.(p.reasonCode, method, binaryProperty(p, Property.AuthenticationData));
    if (p.reasonCode !== 0x18) return;
    if (reply === undefined) {
      this.protocolError(0x87, `the broker continues "${method}" authentication and onAuth gave no data to answer with`, now);
      return;
    }
    this.sendAuth(0x18, reply, now);
  }

  /** Sends AUTH with our method and `data` (the rare packet: encoded into tx). */
  private sendAuth(reason: number, data: Uint8Array | string, now: number): boolean {
    if (!this.out) return false;
    const props = encodedProperties({ authenticationMethod: this.connect.properties!.authenticationMethod, authenticationData: data }, PropertySet.Auth);
    this.txTopic = undefined;
    this.txBuffer.resize(this.txSize);
    const n = encodeReasonPacket(this.tx, 0, PacketType.AUTH, reason, props);
    if (n < 0) throw new MQTTError(-n as ErrorCodeValue, `AUTH with ${props.length} property bytes does not fit txBuffer ${this.txSize}`);
    this.txBuffer.resize(n);
    return this.write(this.tx, now);
  }

  /** Starts a re-authentication (AUTH 0x19) with new data; the broker answers through onSessionAuth. */
  reauthenticate(data: Uint8Array | string, now: number): void {
    if (!this.v5 || this.connect.properties?.authenticationMethod === undefined)
      throw new MQTTError(ErrorCode.BadArgument, "re-authentication needs MQTT 5.0 and properties.authenticationMethod");
    if (this.state !== CONNECTED || !this.sendAuth(0x19, data, now))
      throw new MQTTError(ErrorCode.ConnectionLost, "not connected (or no room in the send window): re-authenticate after onConnect");
  }

  private awaitsPubrel(id: number): boolean {
    for (let i = 0; i < this.pubrelPendingCount; i++) if (this.pubrelPending[i] === id) return true;
    return false;
  }

  private expectPubrel(id: number): void {
    if (this.pubrelPendingCount === this.pubrelPending.length) {
      // Full: forget the oldest; only a duplicate of that one could now slip through.
      this.pubrelPending.copyWithin(0, 1);
      this.pubrelPendingCount--;
      this.listener.onSessionError(new MQTTError(ErrorCode.InflightFull, "more incoming QoS 2 messages pending than inflightIn; raise inflightIn"));
    }
    this.pubrelPending[this.pubrelPendingCount++] = id;
  }

  private pubrelArrived(id: number): void {
    for (let i = 0; i < this.pubrelPendingCount; i++) {
      if (this.pubrelPending[i] === id) {
        this.pubrelPending.copyWithin(i, i + 1, this.pubrelPendingCount);
        this.pubrelPendingCount--;
        return;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Commands from the application

  /**
   * Queues or sends a PUBLISH. Returns the packet id (QoS 1/2), 0 (QoS 0 accepted) or -1 (dropped because
   * the queue is full under "drop-newest", or offline with queueQos0 false). Throws MQTTError on bad arguments.
   */
  publish(topic: string | Topic, payload: Uint8Array | string | number | null | undefined, qos: number, retain: boolean, now: number): number {
    if (this.v5) return this.publish5(topic, payload, qos, retain, now, undefined);
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new MQTTError(ErrorCode.BadArgument, `qos must be 0, 1 or 2, not ${qos}`);
    const connected = this.state === CONNECTED;
    if (qos === 0 && !connected && !this.queueQos0) { this.dropped++; return -1; }
    // Bytes from here on: a string topic or payload is encoded once and then found by identity. This path
    // runs per message on a board: each call and lookup is counted (see bench/xs-compute).
    let t: Uint8Array;
    if (typeof topic === STRING) {
      const cache = this.topics ??= new StringCache(4, true);
      t = topic === cache.lastString ? cache.lastBytes : cache.bytes(topic as string);
    } else t = (topic as Topic).bytes;
    let body = payload as Uint8Array | number | null | undefined, plen: number;
    const kind = typeof payload;
    if (kind === NUMBER) plen = decimalLength(payload as number);
    else if (kind === STRING) plen = (body = this.packet.texts.bytes(payload as string)).length;
    else plen = payload === null || payload === undefined ? 0 : (payload as Uint8Array).length;
    const remaining = 2 + t.length + (qos > 0 ? 2 : 0) + plen;
    const size = remaining < 128 ? remaining + 2 : 1 + remainingLengthSize(remaining) + remaining;
    if (plen < 0 || size > this.txSize) throw this.publishError(plen < 0 ? ErrorCode.BadArgument : ErrorCode.BufferTooShort, topic, payload);
    const first = PUBLISH_FIRST | (qos << 1) | (retain ? 1 : 0);
    const fl = this.inflight;
    if (qos > 0 && this.outbox.count === 0) {
      const slot = fl.free();
      if (slot >= 0) {
        const id = this.allocateId();
        fl.take(slot, id, size);
        writePublish(fl.packets[slot], 0, first, remaining, t, body, id);
        // Nothing older waiting: straight out (else pump keeps the order).
        if (connected && fl.waiting === 1 && this.controlCount === 0) this.sendSlot(slot, now);
        else this.pump(now);
        return id;
      }
    }
    // QoS 0, or no slot free: into tx, then out now or queued (a QoS 1/2 gets its id when it takes a slot).
    const tx = this.tx;
    this.txBuffer.resize(size); // shrinking keeps the bytes below `size`: the topic stays
    const header = remaining < 128 ? 2 : remaining < 16384 ? 3 : 0;
    let o: number;
    if (t === this.txTopic && header === this.txHeader) {
      tx[0] = first;
      if (header === 2) tx[1] = remaining;
      else {
        tx[1] = (remaining & 127) | 128;
        tx[2] = remaining >> 7;
      }
      o = header + 2 + t.length;
    } else {
      o = writePublishHead(tx, 0, first, remaining, t);
      this.txTopic = header > 0 ? t : undefined;
      this.txHeader = header;
    }
    writePublishTail(tx, o, first, body, qos > 0 ? 0xffff : 0);
    if (qos === 0 && connected && this.outbox.count === 0 && this.out!.write(tx)) {
      this.lastSent = now;
      this.sent++;
      return 0;
    }
    return this.enqueue(qos > 0 ? EntryKind.NeedsSlot : EntryKind.Plain, now) ? 0 : -1;
  }

  /**
   * An MQTT 5.0 publish: as publish(), plus properties (encoded once in a Properties, or from an object per call),
   * the broker's limits (Maximum Packet Size, Retain Available, Maximum QoS) checked before anything is queued,
   * and a topic alias for a QoS 0 packet written at once.
   */
  publish5(topic: string | Topic, payload: Uint8Array | string | number | null | undefined, qos: number, retain: boolean, now: number,
    properties: Properties | PublishProperties | undefined): number {
    if (!this.v5) throw new MQTTError(ErrorCode.BadArgument, "publish properties are MQTT 5.0: set protocolVersion: 5");
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new MQTTError(ErrorCode.BadArgument, `qos must be 0, 1 or 2, not ${qos}`);
    const server = this.server;
    if (retain && !server.retainAvailable)
      throw new MQTTError(ErrorCode.NotSupported, `the broker does not keep retained messages (CONNACK Retain Available 0): publish to "${topicName(topic)}" without retain`);
    if (qos > server.maximumQoS)
      throw new MQTTError(ErrorCode.NotSupported, `the broker takes QoS ${server.maximumQoS} at most (CONNACK Maximum QoS): publish to "${topicName(topic)}" at that`);
    const connected = this.state === CONNECTED;
    if (qos === 0 && !connected && !this.queueQos0) { this.dropped++; return -1; }
    let t: Uint8Array;
    if (typeof topic === STRING) {
      const cache = this.topics ??= new StringCache(4, true);
      t = topic === cache.lastString ? cache.lastBytes : cache.bytes(topic as string);
    } else t = (topic as Topic).bytes;
    let props: Uint8Array | undefined, utf8 = false;
    if (properties instanceof Properties) { props = properties.bytes; utf8 = properties.utf8; }
    else if (properties !== undefined) {
      props = encodedProperties(properties, PropertySet.Publish);
      utf8 = properties.payloadFormatIndicator === true;
    }
    let body = payload as Uint8Array | number | null | undefined, plen: number;
    const kind = typeof payload;
    if (kind === NUMBER) plen = decimalLength(payload as number);
    else if (kind === STRING) plen = (body = this.packet.texts.bytes(payload as string)).length;
    else {
      plen = payload === null || payload === undefined ? 0 : (payload as Uint8Array).length;
      if (utf8 && plen > 0 && !validUtf8(payload as Uint8Array, 0, plen))
        throw new MQTTError(ErrorCode.BadUtf8, `payloadFormatIndicator says the payload to "${topicName(topic)}" is UTF-8, but its bytes are not valid UTF-8`);
    }
    if (plen < 0) throw this.publishError(ErrorCode.BadArgument, topic, payload);
    // Measured with the whole topic: the size it has when queued or resent. (Calls spelled out where a 1-byte
    // length is the usual case: each call costs XS instructions per message.)
    let propsLen = props !== undefined ? props.length : 0;
    let remaining = 2 + t.length + (qos > 0 ? 2 : 0) + (propsLen < 128 ? 1 : varintSize(propsLen)) + propsLen + plen;
    let size = remaining < 128 ? remaining + 2 : 1 + remainingLengthSize(remaining) + remaining;
    if (size > this.txSize) throw this.publishError(ErrorCode.BufferTooShort, topic, payload);
    if (server.maximumPacketSize > 0 && size > server.maximumPacketSize)
      throw new MQTTError(ErrorCode.BufferTooShort, `PUBLISH to "${topicName(topic)}" is ${size} bytes; the broker takes ${server.maximumPacketSize} at most (CONNACK Maximum Packet Size)`);
    const first = PUBLISH_FIRST | (qos << 1) | (retain ? 1 : 0);
    const fl = this.inflight;
    if (qos > 0 && this.outbox.count === 0 && fl.count < fl.limit) {
      const slot = fl.free();
      if (slot >= 0) {
        const id = this.allocateId(), packet = fl.packets[slot];
        fl.take(slot, id, size);
        writePublishTail(packet, writePublishProperties(packet, writePublishHead(packet, 0, first, remaining, t), first, id, 0, props), 0, body, 0);
        if (connected && fl.waiting === 1 && this.controlCount === 0) this.sendSlot(slot, now);
        else this.pump(now);
        return id;
      }
    }
    // A QoS 0 packet that goes out now (the window has room for it whole) may use an alias: the broker learns it
    // from this very packet.
    const live = qos === 0 && connected && this.outbox.count === 0;
    const aliases = this.outgoingAliases;
    let use = 0, topicBytes = t;
    if (live && aliases !== undefined && aliases.max > 0 && this.controlCount === 0 && this.out!.writable() >= size && (use = aliases.lookup(t)) !== 0) {
      if (use > 0) topicBytes = NO_TOPIC;
      propsLen += 3; // the Topic Alias property
      remaining = 2 + topicBytes.length + (propsLen < 128 ? 1 : varintSize(propsLen)) + propsLen + plen;
      size = remaining < 128 ? remaining + 2 : 1 + remainingLengthSize(remaining) + remaining;
    }
    const tx = this.tx;
    this.txBuffer.resize(size); // shrinking keeps the bytes below `size`: the topic stays
    // As in 3.1.1, the topic already in tx from the last publish is not written again (properties follow it).
    // The same lines as publish()'s, not a shared method: a call there would cost 3.1.1 ~30 XS instructions a message.
    const header = remaining < 128 ? 2 : remaining < 16384 ? 3 : 0;
    let o: number;
    if (topicBytes === this.txTopic && header === this.txHeader) {
      tx[0] = first;
      if (header === 2) tx[1] = remaining;
      else {
        tx[1] = (remaining & 127) | 128;
        tx[2] = remaining >> 7;
      }
      o = header + 2 + topicBytes.length;
    } else {
      o = writePublishHead(tx, 0, first, remaining, topicBytes);
      this.txTopic = header > 0 ? topicBytes : undefined; // (NO_TOPIC too: then the prefix is the header and 2 zero bytes)
      this.txHeader = header;
    }
    writePublishTail(tx, writePublishProperties(tx, o, first, 0xffff, use > 0 ? use : -use, props), 0, body, 0);
    if (live && this.out!.write(tx)) {
      this.lastSent = now;
      this.sent++;
      return 0;
    }
    return this.enqueue(qos > 0 ? EntryKind.NeedsSlot : EntryKind.Plain, now) ? 0 : -1;
  }

  private publishError(errorCode: number, to: string | Topic, payload: Uint8Array | string | number | null | undefined): MQTTError {
    const code = errorCode as ErrorCodeValue, topic = topicName(to);
    if (code === ErrorCode.BufferTooShort)
      return new MQTTError(code, this.txSize >= MAX_TX
        ? `PUBLISH to "${topic}" with ${payloadLength(payload)} payload bytes exceeds 65535 bytes, the largest packet this client sends (txBuffer's limit): split the payload`
        : `PUBLISH to "${topic}" with ${payloadLength(payload)} payload bytes exceeds txBuffer ${this.txSize}; raise txBuffer (at most ${MAX_TX})`);
    if (typeof payload === "number") return new MQTTError(code, `payload ${payload} is not a finite number that can be written as text`);
    return new MQTTError(code, `cannot encode PUBLISH to "${topic}"`);
  }

  /** Adds the packet in tx to the outbox, applying the overflow policy. */
  private enqueue(kind: number, now: number): boolean {
    const box = this.outbox, n = this.tx.length;
    if (n + 3 > box.capacity) {
      this.dropped++;
      this.listener.onSessionError(new MQTTError(ErrorCode.QueueOverflow, `a ${n}-byte packet cannot fit the ${box.capacity}-byte queue; raise queue`));
      return false;
    }
    if (!box.fits(n)) {
      if (this.overflow === "drop-newest") {
        this.dropped++;
        this.listener.onSessionError(new MQTTError(ErrorCode.QueueOverflow, `queue full (${box.capacity} bytes): dropped the newest message`));
        return false;
      }
      let lost = 0;
      while (!box.fits(n) && box.count > 0) { box.shift(); lost++; }
      this.dropped += lost;
      this.listener.onSessionError(new MQTTError(ErrorCode.QueueOverflow, `queue full (${box.capacity} bytes): dropped the ${lost} oldest message(s)`));
    }
    box.push(this.tx, kind);
    this.pump(now);
    return true;
  }

  /**
   * Registers a subscription (sent now or on the next connect), or updates the one for `filter`. MQTT 5.0:
   * `options` (SubscribeOption bits | retain handling << 4) and a subscription identifier; what the broker said
   * it lacks (wildcards, shared subscriptions, identifiers) is refused here with NotSupported.
   */
  subscribe(filter: string, qos: number, handler: MessageHandler | undefined, now: number, options = 0, subscriptionId = 0): Subscription {
    if ((options !== 0 || subscriptionId !== 0) && !this.v5)
      throw new MQTTError(ErrorCode.BadArgument, "subscription options and identifiers are MQTT 5.0: set protocolVersion: 5");
    if (!(subscriptionId >= 0 && subscriptionId <= 268435455 && subscriptionId === Math.floor(subscriptionId)))
      throw new MQTTError(ErrorCode.BadArgument, `subscriptionIdentifier ${subscriptionId} must be an integer 1..268435455`);
    if ((options & ~0x3c) !== 0 || (options >> 4) === 3) throw new MQTTError(ErrorCode.BadArgument, `retainHandling must be 0, 1 or 2`);
    if ((options & 0x04) !== 0 && typeof filter === "string" && filter.startsWith("$share/"))
      throw new MQTTError(ErrorCode.BadArgument, `noLocal on the shared subscription "${filter}" is a protocol error (MQTT-3.8.3-4)`);
    const refused = this.unsupported(filter, subscriptionId);
    if (refused) throw refused;
    const sub = this.subscriptions.add(filter, qos, handler, this.txSize);
    sub.options = options;
    sub.subscriptionId = subscriptionId;
    if (subscriptionId !== 0) this.subscriptions.identified = true;
    this.pump(now);
    return sub;
  }

  /** What the broker's CONNACK said it lacks for this subscription, as an error; undefined if nothing. */
  private unsupported(filter: string, subscriptionId: number): MQTTError | undefined {
    const server = this.server;
    if (typeof filter !== "string") return undefined; // the table refuses it with BadTopic
    if (!server.wildcardAvailable && (filter.indexOf("+") >= 0 || filter.indexOf("#") >= 0))
      return new MQTTError(ErrorCode.NotSupported, `the broker has no wildcard subscriptions (CONNACK Wildcard Subscription Available 0): "${filter}"`, 0xa2);
    if (!server.sharedSubscriptionsAvailable && filter.startsWith("$share/"))
      return new MQTTError(ErrorCode.NotSupported, `the broker has no shared subscriptions (CONNACK Shared Subscription Available 0): "${filter}"`, 0x9e);
    if (!server.subscriptionIdentifiersAvailable && subscriptionId !== 0)
      return new MQTTError(ErrorCode.NotSupported, `the broker has no subscription identifiers (CONNACK Subscription Identifier Available 0): "${filter}"`, 0xa1);
    return undefined;
  }

  /**
   * Ends a subscription: messages stop at once, UNSUBSCRIBE goes out now or on the next connect, even for a filter
   * this client does not know (a persistent session may hold one from before a reboot). Throws for a bad filter.
   */
  unsubscribe(filter: string, now: number): Subscription {
    const sub = this.subscriptions.unsubscribe(filter, this.txSize);
    this.pump(now);
    return sub;
  }

  /**
   * Sends DISCONNECT if it can (the caller closes the transport). MQTT 5.0: with a reason code (0 normal,
   * 0x04 publish the will anyway, ...) and properties (a new session expiry, a reason string).
   */
  disconnect(now: number, reasonCode = 0, properties?: DisconnectProperties): void {
    if (!this.v5 && (reasonCode !== 0 || properties !== undefined))
      throw new MQTTError(ErrorCode.BadArgument, "DISCONNECT reason codes and properties are MQTT 5.0: set protocolVersion: 5");
    const expiry = properties?.sessionExpiryInterval;
    if (expiry !== undefined && expiry !== 0 && !this.connect.properties?.sessionExpiryInterval)
      throw new MQTTError(ErrorCode.BadArgument, "the session was opened with Session Expiry Interval 0: DISCONNECT cannot set another (MQTT-3.14.2-2)");
    if (this.state !== SessionState.Connected || !this.out) return;
    this.txTopic = undefined;
    if (!this.v5) {
      this.txBuffer.resize(2);
      encodeEmpty(this.tx, 0, PacketType.DISCONNECT);
    } else {
      this.txBuffer.resize(this.txSize);
      const props = properties ? encodedProperties(properties, PropertySet.Disconnect) : undefined;
      const n = encodeReasonPacket(this.tx, 0, PacketType.DISCONNECT, reasonCode, props);
      if (n < 0) throw new MQTTError(-n as ErrorCodeValue, `DISCONNECT properties do not fit txBuffer ${this.txSize}`);
      this.txBuffer.resize(n);
    }
    this.write(this.tx, now);
  }

  /** Forgets all session state (a clean start). */
  reset(): void {
    this.inflight.clear();
    this.outbox.clear();
    this.pubrelPendingCount = 0;
  }

  // -------------------------------------------------------------------------------------------
  // Output

  /** Writes the whole packet now, or nothing (false) when the window lacks room. */
  private write(packet: Uint8Array, now: number): boolean {
    if (!this.out!.write(packet)) return false;
    this.lastSent = now;
    this.sent++;
    return true;
  }

  /** Puts an ack (PUBACK, PUBREC, PUBREL, PUBCOMP) or a PINGREQ in the ack buffer and returns that buffer. */
  private control1(type: number, id: number): Uint8Array {
    if (type === PacketType.PINGREQ) {
      this.ackBuffer.resize(2);
      encodeEmpty(this.ack, 0, type);
    } else {
      this.ackBuffer.resize(4);
      encodeAck(this.ack, 0, type, id);
    }
    return this.ack;
  }

  /** The control word (reason << 20 | type << 16 | packet id) `c` as a packet in the ack buffer. */
  private controlPacket(c: number): Uint8Array {
    if (c < 0x100000) return this.control1(c >>> 16, c & 0xffff);
    // An MQTT 5.0 ack with a reason code (a refused incoming publish): 5 bytes.
    this.ackBuffer.resize(5);
    encodeAckReason(this.ack, 0, (c >>> 16) & 15, c & 0xffff, c >>> 20);
    return this.ack;
  }

  private sendControl(type: number, id: number, now: number): void {
    if (this.controlCount === 0 && this.out && this.write(this.control1(type, id), now)) return;
    this.queueControl((type << 16) | id);
  }

  /** An MQTT 5.0 ack with a reason code (the rare path: sendControl stays as cheap as in 3.1.1). */
  private sendControlReason(type: number, id: number, reason: number, now: number): void {
    const c = (reason << 20) | (type << 16) | id;
    if (this.controlCount === 0 && this.out && this.write(this.controlPacket(c), now)) return;
    this.queueControl(c);
  }

  /** Keeps an ack or ping for when the window has room. */
  private queueControl(c: number): void {
    if (this.controlCount === CONTROL_CAPACITY) {
      this.listener.onSessionFatal(new MQTTError(ErrorCode.BufferTooShort, "too many acknowledgements waiting for the send window"));
      return;
    }
    this.control[this.controlCount++] = c;
  }

  /** Sends whatever is waiting, in order, while the window has room. Call when it may have changed. */
  pump(now: number): void {
    if (this.state !== SessionState.Connected || !this.out) return;
    // Most calls (after each packet received) find nothing waiting.
    if (this.controlCount === 0 && this.inflight.waiting === 0 && !this.subscriptions.pending && this.outbox.count === 0) return;
    const out = this.out, tx = this.tx;
    // 1. Acknowledgements and pings.
    while (this.controlCount > 0) {
      if (!this.write(this.controlPacket(this.control[0]), now)) return;
      this.control.copyWithin(0, 1, this.controlCount);
      this.controlCount--;
    }
    // 2. In-flight messages to (re)send, oldest first; PUBRELs too.
    const fl = this.inflight;
    while (fl.waiting > 0) {
      const i = fl.oldest(SlotState.PublishToSend, SlotState.PubrelToSend);
      if (i < 0) break;
      if (fl.state(i) === SlotState.PubrelToSend) {
        if (!this.sendPubrel(i, now)) return;
        continue;
      }
      if (this.v5) {
        // No more unacknowledged publishes than the broker's Receive Maximum (4.9); PUBRELs still go.
        if (fl.unacknowledged() >= fl.limit) {
          const r = fl.oldest(SlotState.PubrelToSend);
          if (r < 0) break;
          if (!this.sendPubrel(r, now)) return;
          continue;
        }
        if (!this.allowed(fl.packets[i], 0, fl.length(i), fl.id(i))) { fl.release(i); continue; }
      }
      if (!this.sendSlot(i, now)) return;
    }
    // 3. Subscription changes.
    const subs = this.subscriptions;
    if (subs.pending) {
      for (let i = 0; i < subs.list.length; i++) {
        const sub = subs.list[i], s = sub.state, subscribe = s === SubscriptionState.ToSubscribe;
        if (!subscribe && s !== SubscriptionState.ToUnsubscribe) continue;
        if (subscribe && this.v5) {
          // Subscriptions made before the CONNACK said what the broker lacks are refused now.
          const refused = this.unsupported(sub.filter, sub.subscriptionId);
          if (refused) {
            subs.remove(sub);
            i--;
            this.listener.onSessionSubscribe(sub, refused.reasonCode!);
            this.listener.onSessionError(refused);
            continue;
          }
        }
        const id = this.allocateId();
        this.txTopic = undefined;
        this.txBuffer.resize(this.txSize);
        const props = this.v5 ? subscribeProperties(sub.subscriptionId, subscribe) : undefined;
        const n = subscribe ? encodeSubscribe(tx, 0, id, sub.filter, sub.qos, props, sub.options) : encodeUnsubscribe(tx, 0, id, sub.filter, props);
        if (n < 0) {
          subs.remove(sub);
          i--;
          this.listener.onSessionError(new MQTTError(-n as ErrorCodeValue, `${subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE"} for "${sub.filter}" does not encode; raise txBuffer`));
          continue;
        }
        this.txBuffer.resize(n);
        if (!this.write(tx, now)) return;
        sub.packetId = id;
        sub.sentAt = now;
        sub.state = subscribe ? SubscriptionState.AwaitSuback : SubscriptionState.AwaitUnsuback;
      }
      subs.pending = false;
    }
    // 4. The outbox, strictly in order.
    const box = this.outbox;
    while (box.count > 0) {
      if (this.v5 && !this.allowed(box.bytes, box.firstStart, box.firstLength, 0)) {
        box.shift();
        continue;
      }
      if (box.firstKind === EntryKind.NeedsSlot) {
        const slot = fl.count < fl.limit ? fl.free() : -1; // (limit: an MQTT 5.0 broker's Receive Maximum)
        if (slot < 0) return;
        const dst = fl.open(slot);
        const n = box.copyFirst(dst);
        const id = this.allocateId();
        const idAt = publishIdOffset(dst);
        dst[idAt] = id >> 8;
        dst[idAt + 1] = id & 255;
        fl.take(slot, id, n);
        box.shift();
        if (!this.sendSlot(slot, now)) return;
      } else {
        const n = box.firstLength;
        if (out.writable() < n) return; // checked first: copying it out is work
        this.txTopic = undefined;
        this.txBuffer.resize(n);
        box.copyFirst(tx);
        if (!this.write(tx, now)) return;
        box.shift();
      }
    }
  }

  /** Sends in-flight slot i's PUBREL if the window allows; false if it must wait. */
  private sendPubrel(i: number, now: number): boolean {
    const fl = this.inflight;
    if (!this.write(this.control1(PacketType.PUBREL, fl.id(i)), now)) return false;
    fl.setState(i, SlotState.AwaitPubcomp);
    return true;
  }

  /** Sends in-flight slot i's PUBLISH if the window allows; false if it must wait. */
  private sendSlot(i: number, now: number): boolean {
    const fl = this.inflight, packet = fl.packets[i];
    if (!this.write(packet, now)) return false;
    fl.setState(i, ((packet[0] >> 1) & 3) === 1 ? SlotState.AwaitPuback : SlotState.AwaitPubrec);
    return true;
  }

  /** A packet id not used by any in-flight message or pending (un)subscription. */
  private allocateId(): number {
    for (;;) {
      this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
      const id = this.nextId;
      if (this.inflight.find(id) >= 0) continue;
      if (this.subscriptions.usesId(id)) continue;
      return id;
    }
  }

  /** Packets waiting to go out: queued ones and unsent in-flight ones (for the app's view). */
  get queued(): number {
    return this.outbox.count + (this.inflight.oldest(SlotState.PublishToSend) >= 0 ? 1 : 0);
  }
}

const NO_TOPIC = new Uint8Array(0);

/** A publish's topic as text, for error messages. */
function topicName(topic: string | Topic): string {
  return typeof topic === "string" ? topic : topic.name;
}
const SERVER_3_1_1 = Object.freeze(new ServerInfo());
const NO_PROPERTIES = new Uint8Array(0);

/** The property block of an MQTT 5.0 SUBSCRIBE (its identifier, if any) or UNSUBSCRIBE (none). */
function subscribeProperties(subscriptionId: number, subscribe: boolean): Uint8Array {
  return subscribe && subscriptionId > 0 ? encodedProperties({ subscriptionIdentifier: subscriptionId }, PropertySet.Subscribe) : NO_PROPERTIES;
}

/** MQTT 5.0 CONNECT properties with our defaults: what rxBuffer holds, inflightIn, 4 incoming aliases, and the session kept for ever when not clean. */
function connectProperties(options: SessionOptions, cleanSession: boolean): NonNullable<ConnectOptions["properties"]> {
  const props = { ...options.properties };
  const rx = options.rxBuffer ?? 256;
  props.receiveMaximum ??= options.inflightIn ?? 20;
  if (props.maximumPacketSize === undefined) props.maximumPacketSize = 1 + remainingLengthSize(rx) + rx;
  else if (props.maximumPacketSize === 0) delete props.maximumPacketSize; // 0: tell the broker nothing
  props.topicAliasMaximum ??= 4;
  if (props.topicAliasMaximum === 0) delete props.topicAliasMaximum;
  // MQTT 3.1.1's clean session 0 is 5.0's clean start 0 with a session that never expires (3.1.2.11.2).
  if (props.sessionExpiryInterval === undefined && !cleanSession) props.sessionExpiryInterval = 0xffffffff;
  return props;
}

/** Offset of the packet id in the QoS > 0 PUBLISH at the start of `b`. */
function publishIdOffset(b: Uint8Array): number {
  let o = 1;
  while (b[o] & 128) o++;
  o++;
  return o + 2 + ((b[o] << 8) | b[o + 1]);
}


const names: readonly string[] = Object.freeze(["reserved", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE",
  "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "reserved"]);

export function packetName(type: number): string {
  return names[type & 15];
}

export function connackText(code: number): string {
  return `CONNACK ${code}: ${connackMessages[code] ?? "unknown return code"}`;
}
