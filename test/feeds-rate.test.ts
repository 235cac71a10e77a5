// The client-side rate limiter over simulated minutes: a device on a VirtualClock publishes one reading a
// second to the IO emulator (same clock); exact counts sent/held/dropped per policy, and IO never throttles.
// Also: after a refused key the client waits the long refused-login back-off, not the reconnect one.
import { afterEach, describe, expect, it } from "vitest";
import { startAioBroker, type AioBroker } from "../sim/aio/broker.ts";
import { VirtualClock } from "../sim/board/clock.ts";
import { Device } from "../sim/board/device.ts";
import { AdafruitIO, type AdafruitIOOptions } from "../src/feeds/adafruit-io.ts";
import { FeedErrorCode } from "../src/feeds/errors.ts";
import { DROPPED, HELD } from "../src/feeds/rate-limiter.ts";
import { until } from "./support/wait.ts";

const USERS = { alice: "aio_alice_key" };
let broker: AioBroker | undefined;
let io: AdafruitIO | undefined;

afterEach(async () => {
  io?.close();
  io = undefined;
  await broker?.close();
  broker = undefined;
});

interface Rig { clock: VirtualClock; device: Device; io: AdafruitIO; codes: number[] }

async function rig(options: Partial<AdafruitIOOptions>): Promise<Rig> {
  const clock = new VirtualClock();
  broker = await startAioBroker({ users: USERS, clock, timeTopics: false, rateLimitPerMinute: 30, banAfter: 0 });
  const device = new Device({ id: "rate-device", clock, trace: () => {} });
  const codes: number[] = [];
  io = device.run(() => new AdafruitIO({ user: "alice", key: USERS.alice, host: "127.0.0.1", port: broker!.port, secure: false, clientId: "rate", qos: 1,
    keepalive: 0, queue: 4096, inflight: 8, ...options }));
  io.onError = (e) => codes.push(e.code);
  await settle(clock, "connected", () => io!.client.connected);
  return { clock, device, io, codes };
}

/** Lets real I/O run (and due zero-delay callbacks fire) without moving simulated time. */
async function settle(clock: VirtualClock, what: string, check: () => boolean): Promise<void> {
  await until(what, () => { clock.advance(0); return check(); });
}

/** Publishes reading `s` at t = s seconds (s < seconds), letting each reach the broker before time moves on; ends at the last one. */
async function publishEverySecond(r: Rig, seconds: number, results: number[]): Promise<void> {
  const feed = r.device.run(() => r.io.feed("photocell"));
  for (let s = 0; s < seconds; s++) {
    results.push(r.device.run(() => feed.publish(s)));
    await settle(r.clock, "handed points at the broker", () => broker!.counters.publishes === r.io.limiter!.sent);
    if (s < seconds - 1) r.clock.advance(1000);
  }
}

async function runFor(r: Rig, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1000) {
    r.clock.advance(1000);
    await settle(r.clock, "released points at the broker", () => broker!.counters.publishes === r.io.limiter!.sent);
  }
}

const stored = () => broker!.feed("alice", "photocell")?.history.map((p) => Number(p.value)) ?? [];
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe("RateLimiter (30 per minute) over simulated time", () => {
  it("drop-oldest, 10 held: 30 sent in the first minute, 20 oldest held dropped, the last 10 sent in the next", async () => {
    const r = await rig({ rate: { limit: 30, window: 60000, queue: 10, overflow: "drop-oldest" } });
    const results: number[] = [];
    await publishEverySecond(r, 60, results);
    const l = r.io.limiter!;
    expect(r.clock.now()).toBe(59000); // the last reading of the first minute
    expect({ sent: l.sent, held: l.held, dropped: l.dropped, pending: l.pending }).toEqual({ sent: 30, held: 30, dropped: 20, pending: 10 });
    expect(results.slice(0, 30).every((x) => x > 0)).toBe(true); // QoS 1 packet ids
    expect(results.slice(30)).toEqual(new Array(30).fill(HELD));
    expect(r.codes).toEqual(new Array(20).fill(FeedErrorCode.RateLimited));
    expect(stored()).toEqual(range(0, 30));
    await runFor(r, 10000); // slots free at t = 60..69 s, as the readings of t = 0..9 s leave the window
    expect(r.clock.now()).toBe(69000);
    expect({ sent: l.sent, pending: l.pending }).toEqual({ sent: 40, pending: 0 });
    expect(stored()).toEqual([...range(0, 30), ...range(50, 60)]);
    expect(broker!.counters.throttled).toBe(0);
  });

  it("drop-newest, 10 held: the first 40 readings survive", async () => {
    const r = await rig({ rate: { queue: 10, overflow: "drop-newest" } });
    const results: number[] = [];
    await publishEverySecond(r, 60, results);
    const l = r.io.limiter!;
    expect({ sent: l.sent, held: l.held, dropped: l.dropped, pending: l.pending }).toEqual({ sent: 30, held: 10, dropped: 20, pending: 10 });
    expect(results.slice(30, 40)).toEqual(new Array(10).fill(HELD));
    expect(results.slice(40)).toEqual(new Array(20).fill(DROPPED));
    await runFor(r, 60000);
    expect(stored()).toEqual(range(0, 40));
    expect(broker!.counters.throttled).toBe(0);
  });

  it("queue 0: over the limit a reading is dropped at once; 2 readings a second for 2 minutes keep exactly to 30 a minute", async () => {
    const r = await rig({ rate: { queue: 0 } });
    const feed = r.device.run(() => r.io.feed("photocell"));
    let n = 0;
    for (let t = 0; t < 120; t++) {
      r.device.run(() => { feed.publish(n++); feed.publish(n++); });
      await settle(r.clock, "at the broker", () => broker!.counters.publishes === r.io.limiter!.sent);
      r.clock.advance(1000);
    }
    const l = r.io.limiter!;
    // Minute 1: readings 0..29 (t = 0..14 s); minute 2 frees a slot per reading of minute 1, at t = 60..74 s.
    expect({ sent: l.sent, held: l.held, dropped: l.dropped }).toEqual({ sent: 60, held: 0, dropped: 180 });
    expect(stored()).toEqual([...range(0, 30), ...range(120, 150)]);
    expect(broker!.counters.throttled).toBe(0);
  });
});

describe("refused key over simulated time", () => {
  it("waits the refused-login back-off (60 s), not the 5 s reconnect back-off, between attempts", async () => {
    const clock = new VirtualClock();
    broker = await startAioBroker({ users: USERS, clock, timeTopics: false });
    const device = new Device({ id: "refused-device", clock, trace: () => {} });
    const codes: number[] = [];
    io = device.run(() => new AdafruitIO({ user: "alice", key: "not-the-key", host: "127.0.0.1", port: broker!.port, secure: false, clientId: "refused",
      reconnect: { min: 5000, max: 5000, jitter: 0 }, refusedBackoff: { min: 60000, max: 60000, jitter: 0 } }));
    io.onError = (e) => codes.push(e.code);
    await settle(clock, "first refusal", () => codes.length === 1);
    for (let t = 0; t < 59; t++) {
      clock.advance(1000);
      await new Promise((r) => setImmediate(r));
    }
    expect(broker.counters.authFailures).toBe(1);
    expect(device.network.connectAttempts).toBe(1);
    clock.advance(2000);
    await settle(clock, "second refusal", () => codes.length === 2);
    expect(codes).toEqual([FeedErrorCode.KeyRefused, FeedErrorCode.KeyRefused]);
    expect(broker.counters.authFailures).toBe(2);
    expect(device.network.connectAttempts).toBe(2);
  });
});
