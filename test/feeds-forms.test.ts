// Feed helpers against a real mosquitto (which passes bytes through untouched): a raw MQTT.js subscriber on
// "#" checks the exact topic and payload bytes of every publish form, and that refused values send nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { TlsTransport } from "../src/net/tls-transport";
import { TcpTransport } from "../src/net/tcp-transport";
import { WebSocketTransport } from "../src/net/ws-transport";
import { AdafruitIO } from "../src/feeds/adafruit-io.ts";
import { Feeds } from "../src/feeds/feeds.ts";
import { FeedError, FeedErrorCode } from "../src/feeds/errors.ts";
import { MQTTClient } from "../src/mqtt/client.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { until } from "./support/wait.ts";

interface Seen { topic: string; bytes: string; qos: number }

let broker: Mosquitto;
let sniffer: MqttClient;
const seen: Seen[] = [];
const closers: Array<() => void> = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
  sniffer = mqtt.connect(broker.url, { reconnectPeriod: 0 });
  sniffer.on("message", (topic, payload, packet) => seen.push({ topic, bytes: payload.toString("hex"), qos: packet.qos }));
  await new Promise<void>((resolve, reject) => { sniffer.once("connect", () => resolve()); sniffer.once("error", reject); });
  await sniffer.subscribeAsync("#", { qos: 2 });
});

afterAll(async () => {
  for (const c of closers.splice(0)) c();
  await sniffer?.endAsync(true);
  await broker?.close();
});

const hex = (s: string) => Buffer.from(s, "utf8").toString("hex");

/** An AdafruitIO pointed at mosquitto (anonymous: user/key are not checked), with no rate limit. */
async function aio(user: string, extra: Partial<ConstructorParameters<typeof AdafruitIO>[0]> = {}): Promise<AdafruitIO> {
  const io = new AdafruitIO({ user, key: "k", host: "127.0.0.1", port: broker.port, secure: false, clientId: `forms-${user}`, rate: false, txBuffer: 2048, queue: 4096, inflight: 4, reconnect: { min: 100, max: 1000 }, ...extra });
  closers.push(() => io.close());
  await until("connected", () => io.client.connected);
  return io;
}

/** Waits until `n` messages under `prefix` arrived and returns them. */
async function take(prefix: string, n: number): Promise<Seen[]> {
  await until(`${n} messages under ${prefix}`, () => seen.filter((m) => m.topic.startsWith(prefix)).length >= n);
  return seen.filter((m) => m.topic.startsWith(prefix));
}

describe("Feed publish forms, exact bytes", () => {
  it("plain number, string and boolean go to {user}/feeds/{key} as bare text", async () => {
    const io = await aio("alice");
    const temp = io.feed("temp", { qos: 1 });
    expect(temp.topic).toBe("alice/feeds/temp");
    expect(temp.publish(23.5)).toBeGreaterThan(0); // a packet id: QoS 1
    temp.publish(-7);
    temp.publish("21 °C");
    io.feed("door").publish(true);
    io.feed("door").publish(false);
    io.feed("door", { on: "open", off: "closed" }).publish(true);
    const got = await take("alice/", 6);
    expect(got).toEqual([
      { topic: "alice/feeds/temp", bytes: hex("23.5"), qos: 1 },
      { topic: "alice/feeds/temp", bytes: hex("-7"), qos: 1 },
      { topic: "alice/feeds/temp", bytes: hex("21 °C"), qos: 1 },
      { topic: "alice/feeds/door", bytes: hex("ON"), qos: 0 },
      { topic: "alice/feeds/door", bytes: hex("OFF"), qos: 0 },
      { topic: "alice/feeds/door", bytes: hex("open"), qos: 0 },
    ]);
  });

  it("/json with lat/lon/ele, JSON values, /csv with quoting, /f/ and /g/ short forms, groups", async () => {
    const io = await aio("bob");
    const gps = io.feed("gps");
    gps.publish(12.25, { lat: 52.5, lon: 13.375, ele: 34 });
    gps.publish("hi \"there\"", { lat: -1, lon: 2 });
    gps.publishJSON({ a: [1, 2], b: "x" });
    gps.publishJSON({ r: 1 }, { lat: 1.5, lon: -2.5 });
    gps.publishCSV(42, { lat: 10, lon: 20, ele: 30 });
    gps.publishCSV("a,b \"c\"");
    io.feed("light", { short: true }).publish(512);
    const weather = io.group("weather");
    weather.publish({ temp: 21.5, humidity: "40", rain: false }, { lat: 1, lon: 2, ele: 3 });
    weather.publishCSV({ temp: 20, note: "a,b" });
    io.group("weather", { short: true }).publish({ temp: 1 });
    const got = await take("bob/", 10);
    expect(got.map((m) => [m.topic, Buffer.from(m.bytes, "hex").toString("utf8")])).toEqual([
      ["bob/feeds/gps/json", '{"value":12.25,"lat":52.5,"lon":13.375,"ele":34}'],
      ["bob/feeds/gps/json", '{"value":"hi \\"there\\"","lat":-1,"lon":2}'],
      ["bob/feeds/gps", '{"a":[1,2],"b":"x"}'],
      ["bob/feeds/gps/json", '{"value":{"r":1},"lat":1.5,"lon":-2.5}'],
      ["bob/feeds/gps/csv", "42,10,20,30"],
      ["bob/feeds/gps/csv", '"a,b ""c"""'],
      ["bob/f/light", "512"],
      ["bob/groups/weather", '{"feeds":{"temp":21.5,"humidity":"40","rain":"OFF"},"location":{"lat":1,"lon":2,"ele":3}}'],
      ["bob/groups/weather/csv", 'temp,20\nnote,"a,b"'],
      ["bob/g/weather", '{"feeds":{"temp":1}}'],
    ]);
  });

  it("refuses bad keys, NaN/Infinity, values over 1 KB, QoS 2 and bad locations before sending anything", async () => {
    const io = await aio("carol");
    const f = io.feed("ok");
    const refused = (fn: () => unknown, code: number, text: RegExp) => {
      let error: unknown;
      try { fn(); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(FeedError);
      expect((error as FeedError).code).toBe(code);
      expect((error as FeedError).message).toMatch(text);
    };
    refused(() => io.feed("Photo Cell"), FeedErrorCode.BadKey, /"Photo Cell" is not an Adafruit IO feed key.*"photo-cell"/);
    refused(() => io.feed("a/b"), FeedErrorCode.BadKey, /lowercase letters, digits and dashes/);
    refused(() => io.feed(""), FeedErrorCode.BadKey, /non-empty/);
    refused(() => io.group("g.x"), FeedErrorCode.BadKey, /group key/);
    refused(() => f.publish(NaN), FeedErrorCode.NotFinite, /NaN is not a finite number; nothing was sent/);
    refused(() => f.publish(Infinity), FeedErrorCode.NotFinite, /Infinity/);
    refused(() => f.publishCSV(NaN), FeedErrorCode.NotFinite, /NaN/);
    refused(() => f.publish("x".repeat(1025)), FeedErrorCode.ValueTooLarge, /1025 bytes, more than the 1024-byte limit/);
    refused(() => f.publish("é".repeat(513)), FeedErrorCode.ValueTooLarge, /1026 bytes/);
    refused(() => f.publishJSON({ big: "y".repeat(1024) }), FeedErrorCode.ValueTooLarge, /more than the 1024-byte limit/);
    refused(() => f.publish(1, { lat: 91, lon: 0 }), FeedErrorCode.BadValue, /not on Earth/);
    refused(() => f.publish(1, { lat: NaN, lon: 0 }), FeedErrorCode.NotFinite, /lat/);
    refused(() => f.publishJSON(undefined), FeedErrorCode.BadValue, /no JSON form/);
    refused(() => io.group("g").publish({ "Bad Key": 1 }), FeedErrorCode.BadKey, /"Bad Key"/);
    refused(() => io.group("g").publish({ a: NaN }), FeedErrorCode.NotFinite, /feed "a"/);
    refused(() => io.feed("q", { qos: 2 }), FeedErrorCode.QosNotSupported, /Adafruit IO supports QoS 0 and 1 only/);
    refused(() => new AdafruitIO({ user: "carol", key: "k", host: "127.0.0.1", port: broker.port, secure: false, qos: 2 as 1 }), FeedErrorCode.QosNotSupported, /QoS 0 and 1 only/);
    expect(f.publish("x".repeat(1024))).toBe(0); // exactly 1 KB is fine
    f.publish("after");
    const got = await take("carol/", 2);
    expect(got.map((m) => m.topic)).toEqual(["carol/feeds/ok", "carol/feeds/ok"]);
    expect(got[1].bytes).toBe(hex("after"));
  });

  it("a key means TLS on 8883 unless secure: false says otherwise; WebSocket goes over TLS on 443", () => {
    const transportOf = (io: AdafruitIO) => (io.client as unknown as { transport: unknown }).transport;
    const made: AdafruitIO[] = [];
    const make = (o: Partial<ConstructorParameters<typeof AdafruitIO>[0]>) => { const io = new AdafruitIO({ user: "u", key: "k", connect: false, ...o }); made.push(io); return io; };
    const tls = make({});
    expect([tls.client.host, tls.client.port]).toEqual(["io.adafruit.com", 8883]);
    expect(transportOf(tls)).toBeInstanceOf(TlsTransport);
    const plain = make({ secure: false });
    expect(plain.client.port).toBe(1883);
    expect(transportOf(plain)).toBeInstanceOf(TcpTransport);
    const ws = make({ webSocket: true });
    expect(ws.client.port).toBe(443);
    expect(transportOf(ws)).toBeInstanceOf(WebSocketTransport);
    expect((transportOf(ws) as WebSocketTransport).inner).toBeInstanceOf(TlsTransport);
    expect(make({ webSocket: { path: "/x" }, secure: false }).client.port).toBe(80);
    // No key (a local broker without passwords): plain MQTT.
    expect(transportOf(make({ key: "", host: "127.0.0.1" }))).toBeInstanceOf(TcpTransport);
    for (const io of made) io.close();
    expect(() => new AdafruitIO({ user: "u", key: "k", port: 1883 })).toThrow(
      "Adafruit IO key for user u on port 1883, MQTT without TLS: the key would cross the network in clear text. " +
      "Use port 8883 (TLS, the default with a key), or set secure: false to send it in clear text on purpose");
    expect(() => new AdafruitIO({ user: "u", key: "" })).toThrow(/key for user u is missing: set AIO_KEY/);
    // A local broker that only follows Adafruit IO's topic rules may have no passwords.
    const local = new AdafruitIO({ user: "u", key: "", host: "127.0.0.1", connect: false });
    expect(local.client.session.connect.password).toBeUndefined();
    expect(local.client.session.connect.username).toBe("u");
    local.close();
  });
});

describe("Feeds on any broker (plain prefix)", () => {
  it("publishes under a prefix, allows QoS 2, keys with slashes, and asks for no /get", async () => {
    const client = new MQTTClient({ host: "127.0.0.1", port: broker.port, clientId: "plain-feeds", txBuffer: 1024, queue: 2048 });
    closers.push(() => client.close());
    const feeds = new Feeds(client, { prefix: "home/", qos: 2 });
    const temp = feeds.feed("kitchen/temp");
    expect(temp.topic).toBe("home/kitchen/temp");
    const got: number[] = [];
    let acked = false;
    feeds.onSubscribe = () => { acked = true; };
    temp.onNumber((n) => got.push(n));
    await until("SUBACK", () => acked);
    temp.publish(19.75);
    feeds.feed("flag").publish(true);
    const raw = await take("home/", 2);
    expect(raw).toEqual([
      { topic: "home/kitchen/temp", bytes: hex("19.75"), qos: 2 },
      { topic: "home/flag", bytes: hex("ON"), qos: 2 },
    ]);
    await until("own value back", () => got.length === 1);
    expect(got).toEqual([19.75]);
    expect(feeds.lastValueRequests).toBe(0);
    expect(seen.some((m) => m.topic.endsWith("/get"))).toBe(false);
    expect(() => feeds.feed("a+b")).toThrow(/"\+", "#"/);
  });
});
