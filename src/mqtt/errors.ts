// One error vocabulary for the whole client (after lwmqtt): callers switch on `code`,
// the sentence is derived from it, and `reasonCode` carries what the broker said, if anything.

export const ErrorCode = Object.freeze({
  /** A packet does not fit the buffer it must be written to or read into. */
  BufferTooShort: 1,
  /** The remaining-length field is longer than 4 bytes or disagrees with the packet's content. */
  MalformedLength: 2,
  /** Reserved flag bits, an unknown packet type, QoS 3, or a field out of range. */
  MalformedPacket: 3,
  /** A string is not well-formed UTF-8 (or contains U+0000). */
  BadUtf8: 4,
  /** A packet the server must not send to a client (e.g. CONNECT, SUBSCRIBE). */
  ProtocolViolation: 5,
  /** An incoming packet is bigger than rxBuffer; it was skipped. */
  PacketTooLarge: 6,
  /** The broker refused the connection (CONNACK return code in reasonCode). */
  ConnectionRefused: 7,
  /** No PINGRESP or other traffic within 1.5 x keepalive. */
  PingTimeout: 8,
  /** The broker refused a subscription (SUBACK 0x80). */
  SubscribeFailed: 9,
  /** The offline queue was full; a message was dropped by the overflow policy. */
  QueueOverflow: 10,
  /** No free in-flight slot for a QoS 1/2 publish. */
  InflightFull: 11,
  /** A topic or filter is empty, too long, or uses wildcards where they are not allowed. */
  BadTopic: 12,
  /** An option or argument is invalid. */
  BadArgument: 13,
  /** The transport failed or closed. */
  ConnectionLost: 14,
  /** The CONNACK did not arrive in time. */
  ConnectTimeout: 15,
  // 16 is retired (NotConnected: nothing needs it; publishes queue while offline).
  /** Application code called by the client (a message handler, a callback) threw; the client carried on. */
  CallbackFailed: 17,
  /** The broker took a publish or granted a subscription at a lower QoS than asked (e.g. RabbitMQ: no QoS 2). */
  QosDowngraded: 18,
  /** No SUBACK or UNSUBACK within ackTimeout: the connection is ended and the request made again on the next. */
  AckTimeout: 19,
  /** MQTT 5.0: the broker answered a publish with a reason code >= 0x80: it did not take the message. */
  PublishFailed: 20,
  /** MQTT 5.0: the broker said it does not support what was asked (retain, wildcards, QoS, ...); or no 5.0 at all. */
  NotSupported: 21,
  /** MQTT 5.0: the broker ended the connection with DISCONNECT (its reason code in reasonCode). */
  Disconnected: 22,
  /** MQTT 5.0: the broker refused an UNSUBSCRIBE (UNSUBACK reason code >= 0x80). */
  UnsubscribeFailed: 23,
} as const);

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

// Frozen: a preloaded module's tables then stay in flash (xsl warns about unfrozen ones, which are copied to RAM).
const messages: Readonly<Record<number, string>> = Object.freeze({
  1: "packet does not fit the buffer",
  2: "malformed remaining length",
  3: "malformed packet",
  4: "string is not valid UTF-8",
  5: "protocol violation",
  6: "incoming packet larger than rxBuffer",
  7: "connection refused by broker",
  8: "no answer to PINGREQ within 1.5 x keepalive",
  9: "subscription refused by broker",
  10: "offline queue full",
  11: "no free in-flight slot",
  12: "invalid topic",
  13: "invalid argument",
  14: "connection lost",
  15: "no CONNACK in time",
  17: "an application callback threw",
  18: "the broker lowered the QoS",
  19: "no acknowledgement in time",
  20: "the broker did not take the message",
  21: "not supported by the broker",
  22: "disconnected by the broker",
  23: "unsubscribe refused by broker",
});

/** MQTT 5.0 reason codes (spec 2.4) and their names. 0x00 reads differently per packet: see reasonName. */
const reasons: Readonly<Record<number, string>> = Object.freeze({
  0x00: "Success", 0x01: "Granted QoS 1", 0x02: "Granted QoS 2", 0x04: "Disconnect with Will Message",
  0x10: "No matching subscribers", 0x11: "No subscription existed", 0x18: "Continue authentication", 0x19: "Re-authenticate",
  0x80: "Unspecified error", 0x81: "Malformed Packet", 0x82: "Protocol Error", 0x83: "Implementation specific error",
  0x84: "Unsupported Protocol Version", 0x85: "Client Identifier not valid", 0x86: "Bad User Name or Password",
  0x87: "Not authorized", 0x88: "Server unavailable", 0x89: "Server busy", 0x8a: "Banned", 0x8b: "Server shutting down",
  0x8c: "Bad authentication method", 0x8d: "Keep Alive timeout", 0x8e: "Session taken over", 0x8f: "Topic Filter invalid",
  0x90: "Topic Name invalid", 0x91: "Packet Identifier in use", 0x92: "Packet Identifier not found",
  0x93: "Receive Maximum exceeded", 0x94: "Topic Alias invalid", 0x95: "Packet too large", 0x96: "Message rate too high",
  0x97: "Quota exceeded", 0x98: "Administrative action", 0x99: "Payload format invalid", 0x9a: "Retain not supported",
  0x9b: "QoS not supported", 0x9c: "Use another server", 0x9d: "Server moved", 0x9e: "Shared Subscriptions not supported",
  0x9f: "Connection rate exceeded", 0xa0: "Maximum connect time", 0xa1: "Subscription Identifiers not supported",
  0xa2: "Wildcard Subscriptions not supported",
});

/** True if `code` is an MQTT 5.0 reason code. */
export function isReasonCode(code: number): boolean {
  return reasons[code] !== undefined;
}

/**
 * The name of reason code `code` as the spec gives it, with its number: e.g. "0x87 Not authorized".
 * `packetType` 9 (SUBACK) names 0x00 "Granted QoS 0", 14 (DISCONNECT) "Normal disconnection".
 */
export function reasonName(code: number, packetType = 0): string {
  const name = code === 0 && packetType === 9 ? "Granted QoS 0" : code === 0 && packetType === 14 ? "Normal disconnection" : reasons[code] ?? "unknown reason code";
  return `0x${code < 16 ? "0" : ""}${code.toString(16)} ${name}`;
}

/** Meaning of each MQTT 3.1.1 CONNACK return code (section 3.2.2.3). */
export const connackMessages: readonly string[] = Object.freeze([
  "connection accepted",
  "unacceptable protocol version",
  "client identifier rejected",
  "server unavailable",
  "bad user name or password",
  "not authorized",
]);

export class MQTTError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning the inherited name throws.
  override readonly name = "MQTTError";
  readonly code: ErrorCodeValue;
  readonly reasonCode: number | undefined;
  /** The publish this is about (PublishFailed), if any. */
  readonly packetId: number | undefined;

  constructor(code: ErrorCodeValue, detail?: string, reasonCode?: number, packetId?: number) {
    super(detail ? `${messages[code]}: ${detail}` : messages[code]);
    this.code = code;
    this.reasonCode = reasonCode;
    this.packetId = packetId;
  }
}
