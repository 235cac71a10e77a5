// The simulator in MQTT 5.0: the broker-side decoder reads a 5.0 CONNECT (its property blocks), the publish
// sniffer reads 5.0 PUBLISH packets (properties before the payload, topic aliases per connection) once the
// CONNECT on that stream said 5, and the Adafruit IO emulator answers a 5.0 CONNECT as Adafruit IO (3.1.1) does:
// CONNACK return code 1, which the client reports as "not supported", while 3.1.1 clients carry on.
// mqtt-packet encodes the 5.0 fixtures: an encoder independent of ours.
import { afterEach, describe, expect, it } from "vitest";
import { connect as tcpConnect } from "node:net";
import mqttPacket from "mqtt-packet";
import { encodeConnect, PacketType } from "../src/mqtt/codec.ts";
import { ErrorCode } from "../src/mqtt/errors.ts";
import { MQTTClient, type MQTTError } from "../src/mqtt/client.ts";
import { AdafruitIO } from "../src/feeds/adafruit-io.ts";
import { FeedError, FeedErrorCode } from "../src/feeds/errors.ts";
import { PushReader, ServerPacket, decodeAny } from "../sim/brokers/server-codec.ts";
import { NetworkConditions, type NetworkEndpoint } from "../sim/board/network.ts";
import { VirtualClock } from "../sim/board/clock.ts";
import { sniffPublishes } from "../sim/run/publish-sniffer.ts";
import { startAioBroker, type AioBroker } from "../sim/aio/broker.ts";
import { until } from "./support/wait.ts";

const text = new TextDecoder();
const endpoint = (): NetworkEndpoint => ({ isOpen: true, pathChanged() {}, reset() {} });
const v5 = (packet: object): Uint8Array => new Uint8Array(mqttPacket.generate(packet as mqttPacket.Packet, { protocolVersion: 5 }));
const v4 = (packet: object): Uint8Array => new Uint8Array(mqttPacket.generate(packet as mqttPacket.Packet, { protocolVersion: 4 }));
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

function connectPacket(protocolVersion: 4 | 5): object {
  return {
    cmd: "connect", protocolId: "MQTT", protocolVersion, clean: true, keepalive: 30, clientId: "dev1", username: "u", password: Buffer.from("pw"),
    will: { topic: "dev1/status", payload: Buffer.from("offline"), qos: 1, retain: true, ...(protocolVersion === 5 ? { properties: { willDelayInterval: 5, contentType: "text/plain" } } : {}) },
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 60, receiveMaximum: 10, userProperties: { board: "esp8266" } } } : {}),
  };
}

describe("decodeAny: a 5.0 CONNECT", () => {
  const decoded = (bytes: Uint8Array) => {
    const r = new PushReader(1024), p = new ServerPacket();
    r.push(bytes, 0, bytes.length);
    return { status: decodeAny(r, p), p, b: r.buf };
  };

  it("reads the level, the property blocks and every field after them (mqtt-packet's CONNECT and ours)", () => {
    const ours = new Uint8Array(256);
    const n = encodeConnect(ours, 0, { clientId: "dev1", keepalive: 30, cleanSession: true, username: "u", password: "pw", protocolVersion: 5,
      properties: { sessionExpiryInterval: 60, receiveMaximum: 10, userProperties: { board: "esp8266" } },
      will: { topic: "dev1/status", payload: "offline", qos: 1, retain: true, properties: { willDelayInterval: 5, contentType: "text/plain" } } });
    for (const bytes of [v5(connectPacket(5)), ours.subarray(0, n)]) {
      const { status, p, b } = decoded(bytes);
      expect(status).toBe(0);
      const c = p.connect!;
      const field = (s: number, e: number) => text.decode(b.subarray(s, e));
      expect(c.protocolLevel).toBe(5);
      expect(c.keepalive).toBe(30);
      expect([field(c.clientIdStart, c.clientIdEnd), field(c.willTopicStart, c.willTopicEnd), field(c.willPayloadStart, c.willPayloadEnd),
        field(c.usernameStart, c.usernameEnd), field(c.passwordStart, c.passwordEnd)]).toEqual(["dev1", "dev1/status", "offline", "u", "pw"]);
      // Session Expiry (5 bytes) + Receive Maximum (3) + a user property (1 + 2 + 5 + 2 + 7); Will Delay (5) + Content Type (1 + 2 + 10).
      expect(c.propertiesEnd - c.propertiesStart).toBe(5 + 3 + 17);
      expect(b[c.propertiesStart]).toBe(0x11);
      expect(c.willPropertiesEnd - c.willPropertiesStart).toBe(5 + 13);
      expect(b[c.willPropertiesStart]).toBe(0x18);
    }
  });

  it("a 3.1.1 CONNECT decodes as before, with no property blocks", () => {
    const { status, p } = decoded(v4(connectPacket(4)));
    expect(status).toBe(0);
    expect(p.connect!.protocolLevel).toBe(4);
    expect(p.connect!.propertiesEnd - p.connect!.propertiesStart).toBe(0);
    expect(p.connect!.willPropertiesEnd - p.connect!.willPropertiesStart).toBe(0);
  });

  it("a password without a user name: allowed in 5.0 (3.1.2.9), malformed in 3.1.1 (MQTT-3.1.2-22)", () => {
    // mqtt-packet will not write a password alone: drop its user name "x" (flag and field, after the client id "t").
    const withoutUser = (bytes: Uint8Array, propertyLength: number) => {
      const at = 2 + 6 + 4 + propertyLength + 3;
      expect(text.decode(bytes.subarray(at + 2, at + 3))).toBe("x");
      const out = concat(bytes.subarray(0, at), bytes.subarray(at + 3));
      out[1] -= 3;
      out[9] &= ~0x80;
      return out;
    };
    const packet = (protocolVersion: 4 | 5) => ({ cmd: "connect", protocolId: "MQTT", protocolVersion, clean: true, keepalive: 30, clientId: "t", username: "x", password: Buffer.from("token") });
    const { status, p, b } = decoded(withoutUser(v5(packet(5)), 1));
    expect(status).toBe(0);
    expect(p.connect!.usernameStart).toBe(-1);
    expect(text.decode(b.subarray(p.connect!.passwordStart, p.connect!.passwordEnd))).toBe("token");
    expect(decoded(withoutUser(v4(packet(4)), 0)).status).toBe(-ErrorCode.MalformedPacket);
  });

  it("refuses a 5.0 CONNECT whose properties are not CONNECT's, or run past the packet", () => {
    const good = v5(connectPacket(5));
    // The first property id (Session Expiry, 0x11) sits after the fixed header (2), "MQTT" (6), level, flags, keepalive (4) and the length (1).
    const at = 2 + 6 + 4 + 1;
    expect(good[at]).toBe(0x11);
    const wrongId = good.slice(); wrongId[at] = 0x23;  // Topic Alias: a PUBLISH property
    expect(decoded(wrongId).status).toBe(-ErrorCode.MalformedPacket);
    const tooLong = good.slice(); tooLong[at - 1] = 120;
    expect(decoded(tooLong).status).toBe(-ErrorCode.MalformedPacket);
  });
});

describe("sniffPublishes on a 5.0 connection", () => {
  it("reads topic and payload past the properties, resolves topic aliases per connection, skips DUP resends", () => {
    const network = new NetworkConditions(new VirtualClock());
    const seen: string[] = [];
    const levels: number[] = [];
    sniffPublishes(network, (topic, payload) => seen.push(`${topic}=${payload}`), { onConnect: (level) => levels.push(level) });
    const props = { contentType: "text/plain", userProperties: { unit: "lux" }, messageExpiryInterval: 300 };
    const stream = concat(
      v5(connectPacket(5)),
      v5({ cmd: "publish", topic: "shed/photocell", payload: Buffer.from("612"), qos: 1, messageId: 1, retain: false, dup: false, properties: props }),
      v5({ cmd: "publish", topic: "shed/photocell", payload: Buffer.from("612"), qos: 1, messageId: 1, retain: false, dup: true, properties: props }),
      v5({ cmd: "puback", messageId: 9, reasonCode: 0x10 }),
      v5({ cmd: "publish", topic: "shed/light", payload: Buffer.from("620"), qos: 0, retain: false, dup: false, properties: { topicAlias: 2 } }),
      v5({ cmd: "publish", topic: "", payload: Buffer.from("644"), qos: 0, retain: false, dup: false, properties: { topicAlias: 2 } }),
      v5({ cmd: "publish", topic: "", payload: Buffer.from("lost"), qos: 0, retain: false, dup: false, properties: { topicAlias: 3 } }),
    );
    const a = endpoint();
    for (let i = 0; i < stream.length; i += 3) network.sniffer!(a, stream.subarray(i, i + 3));
    expect(levels).toEqual([5]);
    expect(seen).toEqual(["shed/photocell=612", "shed/light=620", "shed/light=644"]);

    // A new connection starts with no aliases; one in 3.1.1 reads payloads whole (no property block).
    seen.length = 0;
    const b = endpoint();
    network.sniffer!(b, concat(v5(connectPacket(5)), v5({ cmd: "publish", topic: "", payload: Buffer.from("658"), qos: 0, retain: false, dup: false, properties: { topicAlias: 2 } })));
    const c = endpoint();
    network.sniffer!(c, concat(v4(connectPacket(4)), v4({ cmd: "publish", topic: "shed/photocell", payload: Buffer.from("686"), qos: 1, messageId: 2, retain: false, dup: false })));
    expect(levels).toEqual([5, 5, 4]);
    expect(seen).toEqual(["shed/photocell=686"]);
  });
});

describe("the Adafruit IO emulator and MQTT 5.0 (Adafruit IO speaks 3.1.1)", () => {
  let broker: AioBroker | undefined;
  const clients: MQTTClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await broker?.close();
    broker = undefined;
  });

  it("answers a 5.0 CONNECT with a 3.1.1 CONNACK, return code 1 (unacceptable protocol version), and closes", async () => {
    broker = await startAioBroker({ users: { alice: "aio_key" } });
    const socket = tcpConnect(broker.port, "127.0.0.1");
    const got: number[] = [];
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("data", (d) => got.push(...d));
    socket.on("error", () => {});
    socket.write(v5({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clean: true, keepalive: 30, clientId: "v5", username: "alice", password: Buffer.from("aio_key") }));
    await closed;
    expect(got).toEqual([PacketType.CONNACK << 4, 2, 0, 1]);
    expect(broker.counters.connects).toBe(0);
  });

  it("a 5.0 MQTTClient is told the broker does not speak 5.0; a 3.1.1 one with the same login publishes to a feed", async () => {
    broker = await startAioBroker({ users: { alice: "aio_key" } });
    const errors: MQTTError[] = [];
    const v5client = new MQTTClient({ host: "127.0.0.1", port: broker.port, clientId: "aio-v5", username: "alice", password: "aio_key", protocolVersion: 5, reconnect: false });
    clients.push(v5client);
    v5client.onError = (e) => errors.push(e);
    await until("the 5.0 client refused", () => errors.length > 0);
    expect(errors[0].code).toBe(ErrorCode.NotSupported);
    expect(errors[0].message).toContain("the broker answered in MQTT 3.1.1: it does not speak 5.0; use protocolVersion 4");
    expect(v5client.connected).toBe(false);

    const v4client = new MQTTClient({ host: "127.0.0.1", port: broker.port, clientId: "aio-v4", username: "alice", password: "aio_key", reconnect: false });
    clients.push(v4client);
    await until("the 3.1.1 client connected", () => v4client.connected);
    v4client.publish("alice/feeds/photocell", "612", 1);
    await until("the point stored", () => broker!.feed("alice", "photocell")?.last?.value === "612");
    expect(broker.counters.connects).toBe(1);
  });

  it("AdafruitIO refuses protocolVersion 5 (and protocol 5) before connecting, saying IO speaks 3.1.1", () => {
    for (const ask of [{ protocolVersion: 5 }, { protocol: 5 }]) {
      let error: unknown;
      try {
        new AdafruitIO({ user: "alice", key: "aio_key", host: "127.0.0.1", port: 1, ...ask } as ConstructorParameters<typeof AdafruitIO>[0]);
      } catch (e) { error = e; }
      expect(error).toBeInstanceOf(FeedError);
      expect((error as FeedError).code).toBe(FeedErrorCode.Unsupported);
      expect((error as FeedError).message).toContain("Adafruit IO speaks MQTT 3.1.1 only");
    }
  });
});
