// The example app (src/app/main.ts) inside the real XS engine, as on a board: built-ins frozen, exceptions
// escaping host callbacks fatal, Wi-Fi from a simulated access point, pins from the simulated board, MQTT to
// the local Adafruit IO emulator over the host's TCP. It must join Wi-Fi, connect, publish photocell readings,
// follow onoff/slider published by another client, and survive the broker being down at start (on lin a
// refused connection is first reported as connected).
import { afterEach, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { XSHost } from "../sim/xs/host.ts";
import { startAioBroker, type AioBroker } from "../sim/aio/broker.ts";
import { freePort } from "../sim/brokers/mosquitto.ts";

const USER = "maker", KEY = "aio_maker_key";
const entry = "test/support/xs/app.ts";
const accessPoints = [{ ssid: "home", password: "home-pass-1", associateMs: 200, dhcpMs: 200 }];

let xs: XSHost | undefined;
let broker: AioBroker | undefined;
let peer: mqtt.MqttClient | undefined;

afterEach(async () => {
  if (xs && !xs.failure) await xs.call("stop").catch(() => undefined);
  await xs?.close();
  await peer?.endAsync(true);
  await broker?.close();
  xs = undefined;
  peer = undefined;
  broker = undefined;
});

function startBroker(port = 0): Promise<AioBroker> {
  return startAioBroker({ port, users: { [USER]: KEY }, timeIntervalMs: 1000, rateLimitPerMinute: 1000 });
}

async function startApp(port: number, platform: "esp8266" | "lin"): Promise<XSHost> {
  const host = await XSHost.start({
    entry, platform, accessPoints,
    config: { ssid: "home", password: "home-pass-1", username: USER, key: KEY, broker: "127.0.0.1", port: String(port), interval: "400", rateLimit: "1000" },
  });
  xs = host;
  host.device.pins.setAnalog(0, 321);
  await host.call("start");
  return host;
}

function readings(b: AioBroker): string[] {
  return (b.feed(USER, "photocell")?.history ?? []).map((p) => String(p.value));
}

describe("the example app in XS", () => {
  it("joins Wi-Fi, connects, publishes readings, follows onoff and slider published by another client", async () => {
    broker = await startBroker();
    const app = await startApp(broker.port, "esp8266");
    await app.until("Wi-Fi connected", () => app.output.includes('Wi-Fi: connected to "home"'));
    await app.until("MQTT connected", () => app.output.includes(`MQTT: connected to 127.0.0.1:${broker!.port}`));
    await app.until("two readings at the broker", () => readings(broker!).length >= 2);
    expect(readings(broker).slice(0, 2)).toEqual(["321", "321"]);

    peer = await mqtt.connectAsync(broker.url, { username: USER, password: KEY, reconnectPeriod: 0 });
    await peer.publishAsync(`${USER}/feeds/onoff`, "ON", { qos: 1 });
    await app.until("onoff ON", () => app.output.includes("onoff: ON\n"));
    expect(app.device.pins.level(2)).toBe(0); // the LED is active low
    await peer.publishAsync(`${USER}/feeds/slider`, "42", { qos: 1 });
    await app.until("slider 42", () => app.output.includes("slider: 42\n"));
    await peer.publishAsync(`${USER}/feeds/onoff`, "OFF", { qos: 1 });
    await app.until("onoff OFF", () => app.output.includes("onoff: OFF\n"));
    expect(app.device.pins.level(2)).toBe(1);

    const status = await app.call<Record<string, unknown>>("status");
    expect(status).toMatchObject({ wifi: "connected", ssid: "home", mqtt: "connected", slider: 42, led: 0, errors: 0 });
    expect(status.published as number).toBeGreaterThanOrEqual(2);
    expect(app.failure).toBeUndefined();
    expect(app.output).not.toContain(KEY);
  });

  it.each(["esp8266", "lin"] as const)("%s: the broker down at start does not abort the app; it connects when the broker comes up", async (platform) => {
    const port = await freePort();
    const app = await startApp(port, platform);
    await app.until("Wi-Fi connected", () => app.output.includes('Wi-Fi: connected to "home"'));
    // A few refused attempts (on lin each one first reported as connected).
    await new Promise((r) => setTimeout(r, 1500));
    expect(app.failure).toBeUndefined();
    expect(app.output).not.toContain("MQTT: connected");
    broker = await startBroker(port);
    await app.until("MQTT connected", () => app.output.includes(`MQTT: connected to 127.0.0.1:${port}`), 20_000);
    await app.until("a reading at the broker", () => readings(broker!).length >= 1);
    expect(app.failure).toBeUndefined();
  });
});
