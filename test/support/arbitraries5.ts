// fast-check arbitraries of valid MQTT 5.0 packets as Fields5 (codec-oracle5.ts), shared by the v5 codec tests.
import fc from "fast-check";
import type { Fields5, Props5, UserProps } from "./codec-oracle5.ts";

/** Characters weighted so ASCII dominates but 2-, 3- and 4-byte UTF-8 (astral) appear in most strings. */
export const char = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(..."abcxyz019-_/ .$") },
  { weight: 2, arbitrary: fc.integer({ min: 0x01, max: 0x7f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0x7ff }).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x800, max: 0xffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);
export const mqttString = (maxLength: number, minLength = 0) => fc.string({ unit: char, minLength, maxLength });
const topicChar = char.filter((c) => c !== "+" && c !== "#");
export const topicName = fc.string({ unit: topicChar, minLength: 1, maxLength: 40 });
const level = fc.string({ unit: topicChar.filter((c) => c !== "/"), maxLength: 8 });
export const filter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([levels, hash]) => [...levels, ...(hash ? ["#"] : [])].join("/"))
  .filter((f) => f.length > 0);
export const qos = fc.constantFrom(0 as const, 1 as const, 2 as const);
export const packetId = fc.integer({ min: 1, max: 65535 });
export const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((b) => Array.from(b));
export const u32 = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(0xffffffff, 0x7fffffff, 0x80000000), fc.integer({ min: 0, max: 0xffffffff }));
export const u16 = (min: number) => fc.oneof(fc.integer({ min, max: 300 }), fc.integer({ min, max: 65535 }));
/** 1..268435455 with every varint size (1 to 4 bytes) well represented. */
export const subscriptionId = fc.oneof(fc.integer({ min: 1, max: 127 }), fc.integer({ min: 128, max: 16383 }), fc.integer({ min: 16384, max: 2097151 }),
  fc.integer({ min: 2097152, max: 268435455 }), fc.constantFrom(1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455));

/**
 * User properties: names may be empty; a name given several values keeps them in order. (Values of a repeated
 * name are not empty: mqtt-packet's parser would overwrite an empty first value instead of making a list.)
 */
export const userProperties: fc.Arbitrary<UserProps> = fc.dictionary(
  mqttString(8),
  fc.oneof({ weight: 3, arbitrary: mqttString(12) }, { weight: 1, arbitrary: fc.array(mqttString(8, 1), { minLength: 2, maxLength: 3 }) }),
  { minKeys: 1, maxKeys: 3, noNullPrototype: true },
);

/** Drops absent keys (fc.record with optional keys leaves them out already; this also drops empty objects). */
const props = (r: fc.Arbitrary<Props5>): fc.Arbitrary<Props5 | undefined> => r.map((p) => (Object.keys(p).length ? p : undefined));
const opt = { requiredKeys: [] as never[] };

// ---- what a broker sends (mqtt-packet writes it, our decode reads it)

export const connackCodes = [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f];
export const pubackCodes = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
export const pubrelCodes = [0x00, 0x92];
export const subackCodes = [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2];
export const unsubackCodes = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91];
export const disconnectCodes = [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97,
  0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2];
export const authCodes = [0x00, 0x18, 0x19];

export const connackProps = props(fc.record({
  sessionExpiryInterval: u32, receiveMaximum: u16(1), maximumQoS: fc.constantFrom(0, 1), retainAvailable: fc.boolean(),
  maximumPacketSize: u32.filter((n) => n > 0), assignedClientIdentifier: mqttString(23), topicAliasMaximum: u16(0),
  reasonString: mqttString(30), userProperties, wildcardSubscriptionAvailable: fc.boolean(), subscriptionIdentifiersAvailable: fc.boolean(),
  sharedSubscriptionAvailable: fc.boolean(), serverKeepAlive: u16(0), responseInformation: mqttString(20), serverReference: mqttString(20),
  authenticationMethod: mqttString(12), authenticationData: bytes(20),
}, opt));

export const connack: fc.Arbitrary<Fields5> = fc.record({ sessionPresent: fc.boolean(), reasonCode: fc.constantFrom(...connackCodes), properties: connackProps })
  .map(({ sessionPresent, reasonCode, properties }) => ({ cmd: "connack", sessionPresent: sessionPresent && reasonCode === 0, reasonCode, ...(properties ? { properties } : {}) }));

/** Valid UTF-8 payload bytes (for payloadFormatIndicator true). */
const textPayload = mqttString(40).map((s) => Array.from(Buffer.from(s, "utf8")));

/** A PUBLISH a broker sends: every publish property, topic aliases (with an empty topic too), several subscription ids. */
export const publishIn: fc.Arbitrary<Fields5> = fc.record({
  topic: topicName, qos, retain: fc.boolean(), dup: fc.boolean(), messageId: packetId, emptyTopic: fc.boolean(),
  bin: fc.oneof({ weight: 8, arbitrary: bytes(64) }, { weight: 1, arbitrary: bytes(3000) }), text: textPayload,
  properties: fc.record({
    payloadFormatIndicator: fc.boolean(), messageExpiryInterval: u32, topicAlias: u16(1), responseTopic: topicName,
    correlationData: bytes(24), userProperties, subscriptionIdentifier: fc.oneof(subscriptionId, fc.array(subscriptionId, { minLength: 2, maxLength: 4 })),
    contentType: mqttString(20),
  }, opt),
}).map(({ topic, qos, retain, dup, messageId, emptyTopic, bin, text, properties }) => {
  const p = Object.keys(properties).length ? properties : undefined;
  const f: Fields5 = { cmd: "publish", topic: emptyTopic && properties.topicAlias ? "" : topic, payload: properties.payloadFormatIndicator ? text : bin,
    qos, retain, dup: qos > 0 && dup };
  if (qos > 0) f.messageId = messageId;
  if (p) f.properties = p;
  return f;
});

const reasonProps = props(fc.record({ reasonString: mqttString(30), userProperties }, opt));

export const ackIn: fc.Arbitrary<Fields5> = fc.constantFrom("puback", "pubrec", "pubrel", "pubcomp" as const).chain((cmd) =>
  fc.record({ messageId: packetId, reasonCode: fc.constantFrom(...(cmd === "puback" || cmd === "pubrec" ? pubackCodes : pubrelCodes)), properties: reasonProps })
    .map(({ messageId, reasonCode, properties }) => ({ cmd, messageId, reasonCode, ...(properties ? { properties } : {}) })));

export const suback: fc.Arbitrary<Fields5> = fc.record({ messageId: packetId, granted: fc.array(fc.constantFrom(...subackCodes), { minLength: 1, maxLength: 8 }), properties: reasonProps })
  .map(({ messageId, granted, properties }) => ({ cmd: "suback", messageId, granted, ...(properties ? { properties } : {}) }));

export const unsuback: fc.Arbitrary<Fields5> = fc.record({ messageId: packetId, granted: fc.array(fc.constantFrom(...unsubackCodes), { minLength: 1, maxLength: 8 }), properties: reasonProps })
  .map(({ messageId, granted, properties }) => ({ cmd: "unsuback", messageId, granted, ...(properties ? { properties } : {}) }));

export const disconnectIn: fc.Arbitrary<Fields5> = fc.record({
  reasonCode: fc.constantFrom(...disconnectCodes),
  properties: props(fc.record({ sessionExpiryInterval: u32, reasonString: mqttString(30), userProperties, serverReference: mqttString(20) }, opt)),
}).map(({ reasonCode, properties }) => ({ cmd: "disconnect", reasonCode, ...(properties ? { properties } : {}) }));

export const authIn: fc.Arbitrary<Fields5> = fc.record({
  reasonCode: fc.constantFrom(...authCodes),
  properties: props(fc.record({ authenticationMethod: mqttString(12), authenticationData: bytes(40), reasonString: mqttString(30), userProperties }, opt)),
}).map(({ reasonCode, properties }) => ({ cmd: "auth", reasonCode, ...(properties ? { properties } : {}) }));

export const pingresp: fc.Arbitrary<Fields5> = fc.constant({ cmd: "pingresp" });

// ---- what a client sends (our encoders write it, mqtt-packet reads it)

/**
 * CONNECT properties in the order our encoder writes them (so byte-for-byte comparisons line up). Authentication
 * Data only with a method (3.1.2.11.10).
 */
export const connectProps = props(fc.record({
  sessionExpiryInterval: u32, receiveMaximum: u16(1), maximumPacketSize: u32.filter((n) => n > 0), topicAliasMaximum: u16(1),
  requestResponseInformation: fc.boolean(), requestProblemInformation: fc.boolean(), authenticationMethod: mqttString(12),
  authenticationData: bytes(20), userProperties,
}, opt).map((p) => {
  if (p.authenticationMethod === undefined) delete p.authenticationData;
  return p;
}));

/** Will properties in our encoder's order. */
export const willProps = props(fc.record({
  willDelayInterval: u32, payloadFormatIndicator: fc.boolean(), messageExpiryInterval: u32, contentType: mqttString(20),
  responseTopic: topicName, correlationData: bytes(24), userProperties,
}, opt));

export const connect: fc.Arbitrary<Fields5> = fc.record({
  clientId: mqttString(23), keepalive: fc.integer({ min: 0, max: 65535 }), clean: fc.boolean(), properties: connectProps,
  will: fc.option(fc.record({ topic: topicName, payload: bytes(100), qos, retain: fc.boolean(), properties: willProps })),
  auth: fc.option(fc.record({ username: mqttString(20), password: fc.option(bytes(40)) })),
}).map(({ clientId, keepalive, clean, properties, will, auth }) => {
  // mqtt-packet refuses an empty client id without a clean start, as in 3.1.1
  const f: Fields5 = { cmd: "connect", clientId, keepalive, clean: clean || clientId === "" };
  if (will) {
    f.will = { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain };
    if (will.properties) f.will.properties = will.properties;
  }
  if (auth) { f.username = auth.username; if (auth.password) f.password = auth.password; }
  if (properties) f.properties = properties;
  return f;
});

/** Publish properties in our encoder's order (topic alias first), as a client sends them. */
export const publishOut: fc.Arbitrary<Fields5> = fc.record({
  topic: topicName, qos, retain: fc.boolean(), dup: fc.boolean(), messageId: packetId, emptyTopic: fc.boolean(),
  bin: fc.oneof({ weight: 8, arbitrary: bytes(64) }, { weight: 1, arbitrary: bytes(3000) }), text: textPayload,
  properties: fc.record({
    topicAlias: u16(1), payloadFormatIndicator: fc.boolean(), messageExpiryInterval: u32, contentType: mqttString(20),
    responseTopic: topicName, correlationData: bytes(24), userProperties,
  }, opt),
}).map(({ topic, qos, retain, dup, messageId, emptyTopic, bin, text, properties }) => {
  const f: Fields5 = { cmd: "publish", topic: emptyTopic && properties.topicAlias ? "" : topic, payload: properties.payloadFormatIndicator ? text : bin,
    qos, retain, dup: qos > 0 && dup };
  if (qos > 0) f.messageId = messageId;
  if (Object.keys(properties).length) f.properties = properties;
  return f;
});

export const ackOut: fc.Arbitrary<Fields5> = fc.constantFrom("puback", "pubrec", "pubrel", "pubcomp" as const).chain((cmd) =>
  fc.record({ messageId: packetId, reasonCode: fc.constantFrom(...(cmd === "puback" || cmd === "pubrec" ? pubackCodes : pubrelCodes)) })
    .map(({ messageId, reasonCode }) => ({ cmd, messageId, reasonCode })));

export const subscribe: fc.Arbitrary<Fields5> = fc.record({
  messageId: packetId, topic: filter, qos, nl: fc.boolean(), rap: fc.boolean(), rh: fc.constantFrom(0, 1, 2),
  properties: props(fc.record({ subscriptionIdentifier: subscriptionId, userProperties }, opt)),
}).map(({ messageId, topic, qos, nl, rap, rh, properties }) => ({ cmd: "subscribe", messageId, subscriptions: [{ topic, qos, nl, rap, rh }], ...(properties ? { properties } : {}) }));

export const unsubscribe: fc.Arbitrary<Fields5> = fc.record({ messageId: packetId, topic: filter, properties: props(fc.record({ userProperties }, opt)) })
  .map(({ messageId, topic, properties }) => ({ cmd: "unsubscribe", messageId, unsubscriptions: [topic], ...(properties ? { properties } : {}) }));

export const disconnectOut: fc.Arbitrary<Fields5> = fc.record({
  reasonCode: fc.constantFrom(...disconnectCodes),
  properties: props(fc.record({ sessionExpiryInterval: u32, reasonString: mqttString(30), userProperties }, opt)),
}).map(({ reasonCode, properties }) => ({ cmd: "disconnect", reasonCode, ...(properties ? { properties } : {}) }));

export const authOut: fc.Arbitrary<Fields5> = fc.record({ reasonCode: fc.constantFrom(...authCodes), method: mqttString(12), data: fc.option(bytes(40)) })
  .map(({ reasonCode, method, data }) => ({ cmd: "auth", reasonCode, properties: { authenticationMethod: method, ...(data ? { authenticationData: data } : {}) } }));
