// End-to-end tests of the local Adafruit IO emulator: real MQTT.js clients over loopback TCP against
// startAioBroker, checking auth, topic rules, payload forms, /get, limits, QoS 2, time topics, restart.
import { afterEach, describe, expect, it } from "vitest";
import mqtt, { type MqttClient, type IClientOptions, type Packet } from "mqtt";
import { startAioBroker, type AioBroker, type AioBrokerOptions } from "../sim/aio/broker.ts";
import { VirtualClock } from "../sim/board/clock.ts";

const USERS = { alice: "aio_alice_key", bob: "aio_bob_key" };

let broker: AioBroker | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
  await broker?.close();
  broker = undefined;
});

async function start(options: Partial<AioBrokerOptions> = {}): Promise<AioBroker> {
  broker = await startAioBroker({ users: USERS, port: 0, host: "127.0.0.1", ...options });
  return broker;
}

async function connect(user = "alice", key = USERS[user as keyof typeof USERS], extra: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(broker!.url, { username: user, password: key, reconnectPeriod: 0, connectTimeout: 5000, ...extra });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

interface Received { topic: string; text: string }

/** Records every message a client receives, with a way to wait for one that matches. */
function inbox(client: MqttClient) {
  const messages: Received[] = [];
  const waiters: Array<{ match: (m: Received) => boolean; resolve: (m: Received) => void }> = [];
  client.on("message", (topic, payload) => {
    const m = { topic, text: payload.toString() };
    messages.push(m);
    for (const w of waiters.splice(0)) {
      if (w.match(m)) w.resolve(m);
      else waiters.push(w);
    }
  });
  return {
    messages,
    next(match: (m: Received) => boolean, timeoutMs = 3000): Promise<Received> {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no matching message within " + timeoutMs + " ms")), timeoutMs);
        waiters.push({ match, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      });
    },
  };
}

const on = (topic: string) => (m: Received) => m.topic === topic;

/** Subscribes and returns the SUBACK return codes, including 0x80 failures (which MQTT.js turns into an error). */
function subackCodes(client: MqttClient, topics: string[]): Promise<number[]> {
  return new Promise((resolve) => {
    const onPacket = (packet: Packet) => {
      if (packet.cmd !== "suback") return;
      client.off("packetreceive", onPacket);
      resolve(packet.granted as number[]);
    };
    client.on("packetreceive", onPacket);
    client.subscribe(topics, { qos: 0 }, () => {});
  });
}

describe("authentication", () => {
  it("accepts the IO username with its key and refuses anything else with CONNACK 5", async () => {
    await start();
    const ok = await connect("alice");
    expect(ok.connected).toBe(true);
    for (const [user, key] of [["alice", "wrong"], ["mallory", "aio_alice_key"], ["bob", USERS.alice]]) {
      const err = await connect(user, key).then(() => undefined, (e: Error & { code?: number }) => e);
      expect(err?.code).toBe(5);
    }
    expect(broker!.counters.authFailures).toBe(3);
    expect(broker!.counters.connects).toBe(1);
  });
});

describe("feeds", () => {
  it("stores a plain publish and delivers it on every path of the feed", async () => {
    await start();
    const watcher = await connect();
    const box = inbox(watcher);
    await watcher.subscribeAsync(["alice/f/#", "alice/feeds/temp"]);
    const device = await connect();
    await device.publishAsync("alice/feeds/temp", "21.5", { qos: 1 });

    expect((await box.next(on("alice/feeds/temp"))).text).toBe("21.5");
    expect((await box.next(on("alice/f/temp"))).text).toBe("21.5");
    expect((await box.next(on("alice/f/temp/csv"))).text).toBe("21.5");
    const json = JSON.parse((await box.next(on("alice/f/temp/json"))).text);
    expect(json).toMatchObject({ value: "21.5", feed_key: "temp" });
    expect(broker!.feed("alice", "temp")?.history.map((p) => p.value)).toEqual(["21.5"]);
    expect(broker!.feed("alice", "temp")?.last?.value).toBe("21.5");
  });

  it("parses /json and /csv into value and location, and keeps other text as it is", async () => {
    await start();
    const device = await connect();
    const box = inbox(device);
    await device.subscribeAsync(["alice/feeds/gps/csv", "alice/feeds/gps/json"]);
    await device.publishAsync("alice/feeds/gps/json", JSON.stringify({ value: 22.587, lat: 38.1123, lon: -91.2325, ele: 112 }), { qos: 1 });
    await device.publishAsync("alice/f/gps/csv", '"a,b",1.5,-2.25', { qos: 1 });
    await device.publishAsync("alice/feeds/gps", '{"sensor-1":1}', { qos: 1 });
    await device.publishAsync("alice/feeds/gps", '{"value":{"x":1},"lat":3}', { qos: 1 });

    const history = broker!.feed("alice", "gps")!.history;
    expect(history.map(({ value, lat, lon, ele }) => ({ value, lat, lon, ele }))).toEqual([
      { value: "22.587", lat: 38.1123, lon: -91.2325, ele: 112 },
      { value: "a,b", lat: 1.5, lon: -2.25, ele: undefined },
      { value: '{"sensor-1":1}', lat: undefined, lon: undefined, ele: undefined },
      { value: '{"x":1}', lat: 3, lon: undefined, ele: undefined },
    ]);
    expect((await box.next((m) => m.topic === "alice/feeds/gps/csv" && m.text.startsWith('"a,b"'))).text).toBe('"a,b",1.5,-2.25');
    const json = JSON.parse((await box.next(on("alice/feeds/gps/json"))).text);
    expect(json).toMatchObject({ value: "22.587", lat: 38.1123, lon: -91.2325, ele: 112 });
  });

  it("rejects invalid JSON on /json and bad keys, reporting on {user}/errors", async () => {
    await start();
    const device = await connect();
    const box = inbox(device);
    await device.subscribeAsync("alice/errors");
    await device.publishAsync("alice/feeds/temp/json", "{not json", { qos: 1 });
    await device.publishAsync("alice/feeds/Bad_Key", "1", { qos: 1 });
    await device.publishAsync("alice/throttle", "1", { qos: 1 });
    expect((await box.next((m) => m.text.includes("alice/feeds/temp/json"))).text).toMatch(/PUBLISH alice\/feeds\/temp\/json rejected, invalid JSON/);
    expect((await box.next((m) => m.text.includes("Bad_Key"))).text).toMatch(/rejected, not a valid resource topic/);
    expect((await box.next((m) => m.text.includes("PUBLISH alice/throttle"))).text).toMatch(/rejected/);
    expect(broker!.feeds("alice")).toEqual([]);
    expect(broker!.counters.rejected).toBe(3);
  });

  it("ignores the retain flag", async () => {
    await start();
    const device = await connect();
    await device.publishAsync("alice/feeds/door", "open", { qos: 1, retain: true });
    const late = await connect();
    const box = inbox(late);
    await late.subscribeAsync("alice/feeds/door");
    await late.publishAsync("alice/feeds/door", "closed", { qos: 1 });
    await box.next(on("alice/feeds/door"));
    expect(box.messages.map((m) => m.text)).toEqual(["closed"]);
    expect(broker!.feed("alice", "door")!.history.map((p) => p.value)).toEqual(["open", "closed"]);
  });
});

describe("/get", () => {
  it("sends the last value of a feed to the asking client only", async () => {
    await start();
    const device = await connect();
    await device.publishAsync("alice/f/counter", "6", { qos: 1 });
    await device.publishAsync("alice/f/counter", "7", { qos: 1 });

    const other = await connect();
    const otherBox = inbox(other);
    await other.subscribeAsync("alice/f/counter");
    const asker = await connect();
    const box = inbox(asker);
    await asker.subscribeAsync(["alice/f/counter", "alice/f/counter/json"]);
    await asker.publishAsync("alice/f/counter/get", "\0", { qos: 1 });
    await asker.publishAsync("alice/f/counter/json/get", "", { qos: 1 });
    expect((await box.next(on("alice/f/counter"))).text).toBe("7");
    expect(JSON.parse((await box.next(on("alice/f/counter/json"))).text).value).toBe("7");

    // A later real publish reaches both; the /get answer must not have gone to `other`.
    await device.publishAsync("alice/f/counter", "8", { qos: 1 });
    await otherBox.next((m) => m.text === "8");
    expect(otherBox.messages.map((m) => m.text)).toEqual(["8"]);
    expect(broker!.feed("alice", "counter")!.history).toHaveLength(3);
    expect(broker!.counters.gets).toBe(2);
  });
});

describe("topic rules", () => {
  it("refuses another user's topics: publish dropped and reported, subscribe gets 0x80", async () => {
    await start();
    const alice = await connect("alice");
    const box = inbox(alice);
    await alice.subscribeAsync("alice/errors");
    await alice.publishAsync("bob/feeds/x", "1", { qos: 1 });
    expect((await box.next((m) => m.text.includes("bob/feeds/x"))).text).toMatch(/PUBLISH bob\/feeds\/x rejected, resource not available or not authorized/);
    expect(broker!.feeds("bob")).toEqual([]);

    expect(await subackCodes(alice, ["bob/feeds/x", "alice/feeds/y", "home/kitchen", "time/seconds"])).toEqual([128, 0, 128, 0]);
    expect((await box.next((m) => m.text.includes("SUBSCRIBE bob/feeds/x"))).text).toMatch(/rejected/);
    expect((await box.next((m) => m.text.includes("SUBSCRIBE home/kitchen"))).text).toMatch(/not a valid resource topic/);
    expect(broker!.counters.refusedSubscriptions).toBe(2);

    // Still connected and working.
    await alice.publishAsync("alice/feeds/y", "ok", { qos: 1 });
    expect(broker!.feed("alice", "y")?.last?.value).toBe("ok");
  });
});

describe("limits", () => {
  it("throttles points over the per-minute rate, with a notice on {user}/throttle", async () => {
    await start({ rateLimitPerMinute: 3 });
    const device = await connect();
    const box = inbox(device);
    await device.subscribeAsync("alice/throttle");
    for (let i = 1; i <= 5; i++) await device.publishAsync("alice/feeds/fast", String(i), { qos: 1 });
    const notice = await box.next(on("alice/throttle"));
    expect(notice.text).toMatch(/^alice data rate limit reached, \d+ seconds until throttle released$/);
    expect(broker!.feed("alice", "fast")!.history.map((p) => p.value)).toEqual(["1", "2", "3"]);
    expect(broker!.counters.throttled).toBe(2);
  });

  it("frees the budget as the rolling window moves on", async () => {
    const clock = new VirtualClock();
    await start({ rateLimitPerMinute: 2, clock, banAfter: 0 });
    const device = await connect();
    for (const v of ["1", "2", "3"]) await device.publishAsync("alice/feeds/slow", v, { qos: 1 });
    clock.advance(60_000);
    await device.publishAsync("alice/feeds/slow", "4", { qos: 1 });
    expect(broker!.feed("alice", "slow")!.history.map((p) => p.value)).toEqual(["1", "2", "4"]);
  });

  it("rejects values over 1 KB and accepts exactly 1 KB", async () => {
    await start();
    const device = await connect();
    const box = inbox(device);
    await device.subscribeAsync("alice/errors");
    await device.publishAsync("alice/feeds/blob", "x".repeat(1025), { qos: 1 });
    expect((await box.next(on("alice/errors"))).text).toMatch(/alice\/feeds\/blob rejected, value too large \(1025 bytes, limit 1024\)/);
    expect(broker!.feed("alice", "blob")).toBeUndefined();
    await device.publishAsync("alice/feeds/blob", "y".repeat(1024), { qos: 1 });
    expect(broker!.feed("alice", "blob")!.last!.value).toHaveLength(1024);
  });

  it("bans after repeated violations, then lets the user back in", async () => {
    const clock = new VirtualClock();
    await start({ clock, banAfter: 3, banMs: 5_000 });
    const device = await connect();
    const box = inbox(device);
    await device.subscribeAsync("alice/errors");
    for (let i = 0; i < 3; i++) await device.publishAsync("nobody/feeds/x", "1", { qos: 1 });
    expect((await box.next((m) => m.text.startsWith("enforcement"))).text).toBe("enforcement limit reached, your account is banned for 5 seconds");
    await device.publishAsync("alice/feeds/t", "1", { qos: 1 });
    expect((await box.next((m) => m.text.includes("PUBLISH alice/feeds/t"))).text).toMatch(/user is temporarily blocked/);
    expect(broker!.feed("alice", "t")).toBeUndefined();
    clock.advance(5_000);
    await device.publishAsync("alice/feeds/t", "2", { qos: 1 });
    expect(broker!.feed("alice", "t")!.last!.value).toBe("2");
    expect(broker!.counters.bans).toBe(1);
  });
});

describe("QoS", () => {
  it("closes the connection on a QoS 2 publish, reports it and stores nothing; grants QoS 1 for QoS 2 subscriptions", async () => {
    await start();
    const watcher = await connect();
    const box = inbox(watcher);
    const granted = await watcher.subscribeAsync({ "alice/errors": { qos: 2 }, "alice/feeds/q": { qos: 1 } });
    expect(granted.map((g) => g.qos)).toEqual([1, 1]);

    const device = await connect();
    const closed = new Promise<void>((r) => device.once("close", () => r()));
    device.publish("alice/feeds/q", "exactly once", { qos: 2 });
    await closed;
    expect((await box.next(on("alice/errors"))).text).toMatch(/PUBLISH alice\/feeds\/q rejected, QoS 2 is not supported/);
    expect(broker!.feed("alice", "q")).toBeUndefined();
    expect(watcher.connected).toBe(true);
  });
});

describe("time topics", () => {
  it("publishes time/seconds, time/millis and time/ISO-8601 on each tick of the clock", async () => {
    const clock = new VirtualClock();
    const epochMs = Date.UTC(2024, 0, 2, 3, 59, 59, 250);
    await start({ clock, epochMs });
    const device = await connect();
    const box = inbox(device);
    await device.subscribeAsync(["time/seconds", "time/millis", "time/ISO-8601", "time/hours"]);
    clock.advance(1000);
    expect((await box.next(on("time/seconds"))).text).toBe(String(Math.floor((epochMs + 1000) / 1000)));
    expect((await box.next(on("time/millis"))).text).toBe(String(epochMs + 1000));
    expect((await box.next(on("time/ISO-8601"))).text).toBe("2024-01-02T04:00:00.250Z");
    expect((await box.next(on("time/hours"))).text).toBe("4");
    clock.advance(1000);
    await box.next((m) => m.topic === "time/seconds" && m.text === String(Math.floor((epochMs + 2000) / 1000)));
    expect(box.messages.filter((m) => m.topic === "time/hours")).toHaveLength(1);
  });

  it("cancels its tick when closed", async () => {
    const virtual = new VirtualClock();
    const live = new Set<unknown>();
    const clock = {
      now: () => virtual.now(),
      schedule(fn: () => void, ms: number) {
        const handle: unknown = virtual.schedule(() => { live.delete(handle); fn(); }, ms);
        live.add(handle);
        return handle;
      },
      cancel(handle: unknown) { live.delete(handle); virtual.cancel(handle); },
    };
    const b = await start({ clock });
    virtual.advance(3000);
    expect(live.size).toBe(1);
    await b.close();
    expect(live.size).toBe(0);
  });

  it("ticks on the real clock", async () => {
    await start({ timeIntervalMs: 50 });
    const device = await connect();
    const box = inbox(device);
    await device.subscribeAsync("time/seconds");
    const first = await box.next(on("time/seconds"));
    await box.next((m) => m.topic === "time/seconds" && m !== first);
    expect(Math.abs(Number(first.text) - Date.now() / 1000)).toBeLessThan(5);
  });
});

describe("groups", () => {
  it("stores a group publish per feed and delivers it on feed and group topics", async () => {
    await start();
    const watcher = await connect();
    const box = inbox(watcher);
    await watcher.subscribeAsync(["alice/feeds/weather.temp", "alice/groups/weather", "alice/g/weather/csv"]);
    const device = await connect();
    await device.publishAsync("alice/groups/weather", JSON.stringify({ feeds: { temp: 20.5, hum: "55" }, location: { lat: 1, lon: 2 } }), { qos: 1 });
    await device.publishAsync("alice/g/weather/csv", "temp,21\nlocation,3,4,5", { qos: 1 });
    await device.publishAsync("alice/groups/weather/json", JSON.stringify({ hum: 60 }), { qos: 1 });

    expect(broker!.feed("alice", "weather.temp")!.history.map(({ value, lat, lon, ele }) => ({ value, lat, lon, ele }))).toEqual([
      { value: "20.5", lat: 1, lon: 2, ele: undefined },
      { value: "21", lat: 3, lon: 4, ele: 5 },
    ]);
    expect(broker!.feed("alice", "weather.hum")!.history.map((p) => p.value)).toEqual(["55", "60"]);
    expect((await box.next(on("alice/feeds/weather.temp"))).text).toBe("20.5");
    expect(JSON.parse((await box.next(on("alice/groups/weather"))).text)).toEqual({ feeds: { temp: "20.5", hum: "55" }, location: { lat: 1, lon: 2 } });
    await box.next((m) => m.topic === "alice/g/weather/csv" && m.text === "temp,21\nlocation,3,4,5");

    // A publish to one feed of the group reaches group subscribers with just that feed.
    await device.publishAsync("alice/f/weather.hum", "61", { qos: 1 });
    await box.next((m) => m.topic === "alice/groups/weather" && m.text === JSON.stringify({ feeds: { hum: "61" } }));
  });

  it("counts each feed of a group publish against the rate limit", async () => {
    await start({ rateLimitPerMinute: 2 });
    const device = await connect();
    await device.publishAsync("alice/groups/g1", JSON.stringify({ feeds: { a: 1, b: 2, c: 3 } }), { qos: 1 });
    expect(broker!.feeds("alice").map((f) => f.key)).toEqual(["g1.a", "g1.b"]);
    expect(broker!.counters.throttled).toBe(1);
  });
});

describe("server side", () => {
  it("publishes a client's will through the same rules", async () => {
    await start();
    const watcher = await connect();
    const box = inbox(watcher);
    await watcher.subscribeAsync("alice/feeds/status");
    const device = await connect("alice", USERS.alice, { will: { topic: "alice/feeds/status", payload: Buffer.from("offline"), qos: 0, retain: true } });
    device.stream.destroy();
    expect((await box.next(on("alice/feeds/status"))).text).toBe("offline");
    expect(broker!.feed("alice", "status")!.last!.value).toBe("offline");
  });

  it("writes a value as the dashboard would, reaching feed and group subscribers", async () => {
    await start();
    const device = await connect();
    const box = inbox(device);
    await device.subscribeAsync(["alice/f/lamp", "alice/g/room"]);
    const point = broker!.write("alice", "lamp", "ON");
    broker!.write("alice", "room.fan", { value: "2", lat: 1 });
    expect(point.value).toBe("ON");
    expect((await box.next(on("alice/f/lamp"))).text).toBe("ON");
    expect(JSON.parse((await box.next(on("alice/g/room"))).text)).toEqual({ feeds: { fan: "2" }, location: { lat: 1 } });
    expect(() => broker!.write("alice", "Bad Key", "1")).toThrow(/invalid feed key/);
  });
});

describe("restart and history", () => {
  it("keeps history across a restart on the same port, and clients reconnect", async () => {
    await start();
    const port = broker!.port;
    const device = await connect("alice", USERS.alice, { reconnectPeriod: 100 });
    await device.publishAsync("alice/feeds/temp", "1", { qos: 1 });
    const reconnected = new Promise<void>((r) => device.once("connect", () => r()));
    const dropped = new Promise<void>((r) => device.once("close", () => r()));
    await broker!.restart();
    await dropped;
    await reconnected;
    expect(broker!.port).toBe(port);
    await device.publishAsync("alice/feeds/temp", "2", { qos: 1 });
    expect(broker!.feed("alice", "temp")!.history.map((p) => p.value)).toEqual(["1", "2"]);

    const table = broker!.printHistory("alice", () => {});
    expect(table).toMatch(/^feed\s+time \(UTC\)\s+value/);
    expect(table.split("\n").filter((l) => l.startsWith("temp "))).toHaveLength(2);
  });

  it("reports stored points, clients and notices as events", async () => {
    await start({ rateLimitPerMinute: 1 });
    const events: string[] = [];
    broker!.on("publish", (e) => events.push(`publish ${e.user} ${e.key}=${e.point.value}`));
    let gone!: () => void;
    const disconnected = new Promise<void>((r) => (gone = r));
    broker!.on("client", (e) => { events.push(`client ${e.user} ${e.connected}`); if (!e.connected) gone(); });
    broker!.on("throttle", (e) => events.push(`throttle ${e.user}`));
    broker!.on("error", (e) => events.push(`error ${e.user}`));
    const device = await connect();
    await device.publishAsync("alice/feeds/a", "1", { qos: 1 });
    await device.publishAsync("alice/feeds/a", "2", { qos: 1 });
    await device.publishAsync("bob/feeds/a", "3", { qos: 1 });
    await device.endAsync();
    await disconnected;
    expect(events).toEqual(["client alice true", "publish alice a=1", "throttle alice", "error alice", "client alice false"]);
  });
});
