// Feed helpers against the local Adafruit IO emulator (startAioBroker): what IO stores for every form,
// /get on (re)subscribe, typed subscriptions, time topics, and the throttle/errors/ban reports.
import { afterEach, describe, expect, it } from "vitest";
import { startAioBroker, type AioBroker, type AioBrokerOptions } from "../sim/aio/broker.ts";
import { AdafruitIO, type AdafruitIOOptions } from "../src/feeds/adafruit-io.ts";
import { FeedError, FeedErrorCode } from "../src/feeds/errors.ts";
import { HELD } from "../src/feeds/rate-limiter.ts";
import type { MQTTError } from "../src/mqtt/errors.ts";
import { until } from "./support/wait.ts";

const USERS = { alice: "aio_alice_key", bob: "aio_bob_key" };
let broker: AioBroker | undefined;
const ios: AdafruitIO[] = [];

afterEach(async () => {
  for (const io of ios.splice(0)) io.close();
  await broker?.close();
  broker = undefined;
});

async function start(options: Partial<AioBrokerOptions> = {}): Promise<AioBroker> {
  broker = await startAioBroker({ users: USERS, timeTopics: false, ...options });
  return broker;
}

function connect(extra: Partial<AdafruitIOOptions> = {}): { io: AdafruitIO; errors: Array<FeedError | MQTTError> } {
  const io = new AdafruitIO({ user: "alice", key: USERS.alice, host: "127.0.0.1", port: broker!.port, secure: false, clientId: `t-${ios.length}`, rate: false,
    reconnect: { min: 50, max: 200 }, txBuffer: 2048, rxBuffer: 2048, queue: 4096, ...extra });
  ios.push(io);
  const errors: Array<FeedError | MQTTError> = [];
  io.onError = (e) => errors.push(e);
  return { io, errors };
}

const values = (key: string, user = "alice") => broker!.feed(user, key)?.history.map((p) => p.value) ?? [];

describe("AdafruitIO against the IO emulator", () => {
  it("IO stores what every form means: plain, /json with location, /csv, /f/, group JSON and CSV", async () => {
    await start();
    const { io, errors } = connect({ qos: 1 });
    const delivered: number[] = [];
    io.client.onDelivered = (id) => delivered.push(id);
    io.feed("temp").publish(21.5);
    io.feed("temp").publish("22");
    io.feed("gps").publish(3, { lat: 52.5, lon: 13.25, ele: 40 });
    io.feed("gps").publishCSV(4, { lat: 1, lon: 2 });
    io.feed("note").publishCSV('a,"b"');
    io.feed("light", { short: true }).publish(700);
    io.feed("door").publish(true);
    io.feed("cfg").publishJSON({ mode: "eco", level: 2 });
    io.group("weather").publish({ wind: 5, sky: "clear" }, { lat: 10, lon: 20 });
    io.group("weather").publishCSV({ wind: 6 });
    await until("10 acks", () => delivered.length === 10);
    expect(values("temp")).toEqual(["21.5", "22"]);
    expect(broker!.feed("alice", "gps")!.history.map(({ value, lat, lon, ele }) => ({ value, lat, lon, ele }))).toEqual([
      { value: "3", lat: 52.5, lon: 13.25, ele: 40 },
      { value: "4", lat: 1, lon: 2, ele: undefined },
    ]);
    expect(values("note")).toEqual(['a,"b"']);
    expect(values("light")).toEqual(["700"]);
    expect(values("door")).toEqual(["ON"]);
    expect(JSON.parse(values("cfg")[0])).toEqual({ mode: "eco", level: 2 });
    expect(values("weather.wind")).toEqual(["5", "6"]);
    expect(values("weather.sky")).toEqual(["clear"]);
    expect(broker!.feed("alice", "weather.sky")!.last).toMatchObject({ lat: 10, lon: 20 });
    expect(broker!.counters.rejected).toBe(0);
    expect(errors).toEqual([]);
  });

  it("asks for the last value with /get after each SUBACK: on subscribe and again after a broker restart", async () => {
    await start();
    broker!.write("alice", "onoff", "ON");
    const { io } = connect();
    const got: string[] = [];
    io.feed("onoff").onText((t) => got.push(t));
    await until("last value on subscribe", () => got.length === 1);
    expect(got).toEqual(["ON"]);
    broker!.write("alice", "onoff", "OFF");
    await until("live value", () => got.length === 2);
    await broker!.restart({ downMs: 50 });
    await until("last value again after resubscribe", () => got.length === 3, 8000);
    expect(got).toEqual(["ON", "OFF", "OFF"]);
    expect(broker!.counters.gets).toBe(2);
    expect(io.lastValueRequests).toBe(2);
    expect(io.client.reconnects).toBeGreaterThanOrEqual(1);
    // An explicit get() works too.
    io.feed("onoff").get();
    await until("explicit get", () => got.length === 4);
  });

  it("typed subscriptions: number, text, boolean, JSON; bad values are reported, not delivered", async () => {
    await start();
    const { io, errors } = connect();
    const numbers: number[] = [], texts: string[] = [], bools: boolean[] = [], objects: unknown[] = [];
    let subacks = 0;
    io.onSubscribe = () => { subacks++; };
    io.feed("slider").onNumber((n) => numbers.push(n));
    io.feed("label").onText((t) => texts.push(t));
    io.feed("onoff").onBoolean((b) => bools.push(b));
    io.feed("cfg").onJSON((v) => objects.push(v));
    await until("4 SUBACKs (+ throttle, errors)", () => subacks === 6);
    // Each SUBACK sent a /get; let the broker see them before storing values, or it would answer with those.
    await until("4 /get requests at the broker", () => broker!.counters.publishes === 4);
    for (const v of ["12.5", "-3", "abc", "0"]) broker!.write("alice", "slider", v);
    for (const v of ["héllo", "a,b"]) broker!.write("alice", "label", v);
    for (const v of ["ON", "OFF", "1", "0", "true", "maybe"]) broker!.write("alice", "onoff", v);
    for (const v of ['{"a":1}', "[1,2]", "{oops"]) broker!.write("alice", "cfg", v);
    await until("all values", () => numbers.length === 3 && texts.length === 2 && bools.length === 5 && objects.length === 2 && errors.length === 3);
    expect(numbers).toEqual([12.5, -3, 0]);
    expect(texts).toEqual(["héllo", "a,b"]);
    expect(bools).toEqual([true, false, true, false, true]);
    expect(objects).toEqual([{ a: 1 }, [1, 2]]);
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      [FeedErrorCode.BadValue, 'feed "slider": received "abc", not a number'],
      [FeedErrorCode.BadValue, 'feed "onoff": received "maybe", not ON/OFF'],
      [FeedErrorCode.BadValue, 'feed "cfg": received "{oops", not JSON'],
    ]);
  });

  it("time/seconds and time/ISO-8601 ticks reach the callbacks", async () => {
    const epochMs = Date.UTC(2024, 5, 1, 12, 0, 0);
    await start({ timeTopics: true, timeIntervalMs: 30, epochMs });
    const { io } = connect();
    const seconds: number[] = [], iso: string[] = [];
    io.time("seconds", (s) => seconds.push(s));
    io.time("ISO-8601", (s) => iso.push(s));
    await until("3 ticks of each", () => seconds.length >= 3 && iso.length >= 3);
    for (const s of seconds) expect(s).toBeGreaterThanOrEqual(epochMs / 1000);
    for (const s of seconds) expect(s).toBeLessThan(epochMs / 1000 + 60);
    expect(iso[0]).toMatch(/^2024-06-01T12:00:\d\d\.\d{3}Z$/);
    expect(() => io.time("minutes" as "seconds", () => {})).toThrow(/not an Adafruit IO time topic/);
  });

  it("{user}/throttle: a clear error and onThrottle with the wait; the limiter holds points meanwhile", async () => {
    await start({ rateLimitPerMinute: 3, banAfter: 0 });
    const { io, errors } = connect({ rate: { limit: 100, queue: 4 } });
    const throttles: Array<[string, number]> = [];
    io.onThrottle = (text, s) => throttles.push([text, s]);
    let subacks = 0;
    io.onSubscribe = () => { subacks++; };
    await until("throttle and errors subscribed", () => subacks === 2);
    const f = io.feed("fast");
    for (let i = 0; i < 4; i++) f.publish(i);
    await until("throttle notice", () => throttles.length === 1);
    expect(throttles[0][0]).toMatch(/^alice data rate limit reached, \d+ seconds until throttle released$/);
    expect(throttles[0][1]).toBeGreaterThan(0);
    const e = errors.find((x) => x.code === FeedErrorCode.Throttled) as FeedError;
    expect(e.message).toMatch(/^Adafruit IO throttled user alice: alice data rate limit reached/);
    expect(e.waitSeconds).toBe(throttles[0][1]);
    expect(values("fast")).toEqual(["0", "1", "2"]);
    expect(io.throttles).toBe(1);
    // Told to wait: the next point is held by the client-side limiter, not sent into the throttle.
    expect(f.publish(9)).toBe(HELD);
    expect(io.limiter!.pending).toBe(1);
  });

  it("{user}/errors: rejected actions and bans surface as clear errors; a ban pauses publishing", async () => {
    await start({ banAfter: 2, banMs: 30_000 });
    const { io, errors } = connect({ rate: {} });
    let subacks = 0;
    io.onSubscribe = () => { subacks++; };
    await until("subscribed", () => subacks === 2);
    io.client.publish("bob/feeds/x", "1", 0); // someone else's feed
    io.client.publish("time/seconds", "1", 0); // read-only
    await until("2 errors + ban", () => errors.length === 3);
    expect(errors[0].code).toBe(FeedErrorCode.ServiceError);
    expect(errors[0].message).toMatch(/^Adafruit IO error for user alice: t-0 \S+ PUBLISH bob\/feeds\/x rejected, resource not available or not authorized$/);
    expect(errors[1].message).toMatch(/PUBLISH time\/seconds rejected, time topics are read-only/);
    expect(errors[2].code).toBe(FeedErrorCode.Banned);
    expect((errors[2] as FeedError).waitSeconds).toBe(30);
    expect(io.serviceErrors).toBe(3);
    expect(io.feed("t").publish(1)).toBe(HELD);
  });

  it("CONNACK 5: a clear error naming the user (never the key), and the client stays down", async () => {
    await start();
    const { io, errors } = connect({ key: "wrong-secret-key", refusedBackoff: { min: 60_000, max: 60_000 } });
    await until("refusal", () => errors.length === 1);
    const e = errors[0] as FeedError;
    expect(e).toBeInstanceOf(FeedError);
    expect(e.code).toBe(FeedErrorCode.KeyRefused);
    expect(e.message).toMatch(/^Adafruit IO refused the key for user alice: check AIO_KEY \(CONNACK 5: not authorized\); next login attempt in \d+ s$/);
    expect(e.message).not.toContain("wrong-secret-key");
    expect(e.waitSeconds).toBeGreaterThanOrEqual(45);
    expect(io.refusals).toBe(1);
    expect(io.client.state).toBe("offline");
  });
});
