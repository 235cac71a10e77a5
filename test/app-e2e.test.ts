// The example app end to end on a simulated board: Wi-Fi from a virtual AP, Adafruit IO from the local
// emulator, photocell on A0 and LED on GPIO 2 from sim/board/pins; all on one simulated clock.
import { afterEach, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import main from "../src/app/main.ts";
import type { App } from "../src/app/status.ts";
import { world, type World } from "./support/app-sim.ts";
import { until } from "./support/wait.ts";

const USER = "maker", KEY = "aio_maker_key";
let w: World | undefined;
let app: App | undefined;
let watcher: MqttClient | undefined;

afterEach(async () => {
  app?.stop();
  app = undefined;
  await watcher?.endAsync(true);
  watcher = undefined;
  await w?.close();
  w = undefined;
});

async function boot(config: Record<string, string> = {}): Promise<World> {
  w = await world([{ ssid: "home", password: "home-pass-1" }], {
    id: "app-board",
    config: { ssid: "home", password: "home-pass-1", username: USER, key: KEY, broker: "127.0.0.1", interval: "5000", ...config },
  }, { users: { [USER]: KEY }, timeIntervalMs: 1000 });
  w.device.config.port = String(w.broker.port);
  return w;
}

/** Readings the app reports having published (its trace), in order. */
function publishedReadings(w: World): number[] {
  return w.traced.join("").split("\n").flatMap((line) => {
    const m = /^photocell: (\d+)$/.exec(line);
    return m ? [Number(m[1])] : [];
  });
}

describe("example app", () => {
  it("joins Wi-Fi, connects, publishes readings a subscriber sees byte for byte; status is complete", async () => {
    const w = await boot();
    watcher = mqtt.connect(w.broker.url, { username: USER, password: KEY, reconnectPeriod: 0 });
    const seen: Array<[string, string]> = [];
    watcher.on("message", (topic, payload) => seen.push([topic, payload.toString("hex")]));
    await watcher.subscribeAsync(`${USER}/feeds/photocell`, { qos: 1 });
    w.device.pins.setAnalog(0, 321);
    app = w.run(() => main());
    expect(app.status.wifi).toBe("idle");
    await w.passUntil("MQTT connected", () => app!.status.mqtt === "connected", 20_000);
    await w.passUntil("two readings", () => app!.status.published === 2, 20_000);
    w.device.pins.setAnalog(0, 1000);
    await w.passUntil("third reading", () => app!.status.delivered >= 3, 10_000);
    await until("watcher got 3", () => seen.length >= 3);
    expect(seen.slice(0, 3)).toEqual([
      [`${USER}/feeds/photocell`, Buffer.from("321").toString("hex")],
      [`${USER}/feeds/photocell`, Buffer.from("321").toString("hex")],
      [`${USER}/feeds/photocell`, Buffer.from("1000").toString("hex")],
    ]);
    const s = app.status;
    expect(s).toMatchObject({ wifi: "connected", ssid: "home", rssi: -50, mqtt: "connected", published: 3, delivered: 3, reconnects: 0, queued: 0, errors: 0, lastError: undefined, lastReading: 1000, led: 0 });
    expect(s.ip).toMatch(/^192\.168\.10\.\d+$/);
    expect(s.received).toBeGreaterThan(0); // time ticks
    expect(s.time).toBeGreaterThanOrEqual(Date.UTC(2024, 0, 1) / 1000);
    const traced = w.traced.join("");
    expect(traced).toContain('Wi-Fi: connected to "home"');
    expect(traced).toContain("MQTT: connected to 127.0.0.1");
    for (const secret of [KEY, "home-pass-1"]) expect(traced).not.toContain(secret);
  });

  it("onoff drives the LED (active low on GPIO 2), slider and time reach the status; last value on subscribe", async () => {
    const w = await boot();
    w.broker.write(USER, "onoff", "ON"); // set on the dashboard while the board was off
    const levels: Array<[number, number]> = [];
    w.device.pins.onChange((pin, level) => levels.push([pin, level]));
    app = w.run(() => main());
    expect(w.device.pins.level(2)).toBe(1); // off at boot: pin high
    await w.passUntil("LED on from /get", () => app!.status.led === 1, 20_000);
    expect(w.device.pins.level(2)).toBe(0);
    w.broker.write(USER, "onoff", "OFF");
    await w.passUntil("LED off", () => app!.status.led === 0);
    expect(w.device.pins.level(2)).toBe(1);
    w.broker.write(USER, "onoff", "ON");
    await w.passUntil("LED on", () => app!.status.led === 1);
    expect(levels).toEqual([[2, 1], [2, 0], [2, 1], [2, 0]]);
    w.broker.write(USER, "slider", "42.5");
    await w.passUntil("slider", () => app!.status.slider === 42.5);
    const t0 = app.status.time!;
    await w.passUntil("time ticks on", () => app!.status.time! >= t0 + 2, 5000);
    expect(app.status.errors).toBe(0);
  });

  it("after a Wi-Fi drop it recovers and no QoS 1 reading is lost (broker history = published readings)", async () => {
    const w = await boot({ interval: "2000" });
    let next = 100;
    w.device.pins.setAnalog(0, next);
    // Each reading gets a distinct value: after the app traces one, the next is set.
    const sink = w.device.traceSink;
    w.device.traceSink = (text) => {
      sink(text);
      if (text.startsWith("photocell: ")) w.device.pins.setAnalog(0, ++next);
    };
    app = w.run(() => main());
    await w.passUntil("connected", () => app!.status.mqtt === "connected", 20_000);
    await w.pass(10_000);
    const before = app.status.delivered;
    expect(before).toBeGreaterThanOrEqual(4);
    w.air.disappear("home", 20_000);
    await w.passUntil("Wi-Fi lost", () => app!.status.wifi === "lost" || app!.status.wifi === "connecting");
    await w.pass(15_000);
    expect(app.status.mqtt).not.toBe("connected");
    expect(app.status.queued).toBeGreaterThan(0);
    await w.passUntil("back online", () => app!.status.wifi === "connected" && app!.status.mqtt === "connected", 60_000);
    await w.pass(6000);
    await w.passUntil("everything acknowledged", () => app!.status.queued === 0 && app!.status.delivered === app!.status.published, 20_000);
    const published = publishedReadings(w);
    expect(published.length).toBe(app.status.published);
    expect(published.length).toBeGreaterThan(before + 5);
    const history = w.broker.feed(USER, "photocell")!.history.map((p) => Number(p.value));
    expect([...new Set(history)]).toEqual(published);
    expect(app.status.reconnects).toBeGreaterThanOrEqual(1);
    expect(app.status.errors).toBe(0);
  });
});
