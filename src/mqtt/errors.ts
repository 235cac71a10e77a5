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
});

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

  constructor(code: ErrorCodeValue, detail?: string, reasonCode?: number) {
    super(detail ? `${messages[code]}: ${detail}` : messages[code]);
    this.code = code;
    this.reasonCode = reasonCode;
  }
}
