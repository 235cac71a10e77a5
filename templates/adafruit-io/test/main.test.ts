// src/main.ts on a simulated board (xsmq/sim) against the local Adafruit IO emulator: the photocell reading
// reaches its feed, the dashboard's onoff switches the LED, and a refused key is reported without a crash.
import { afterEach, expect, it } from "vitest";
import { startSimulation, type Simulation } from "xsmq/sim";
import main from "../src/main.ts";
import { until } from "./until.ts";

let sim: Simulation | undefined;
afterEach(async () => { await sim?.stop(); sim = undefined; });

it("publishes the photocell to its feed and switches the LED from the onoff feed", async () => {
  sim = await startSimulation({ main, interval: 1000 });
  const { device, username } = sim.devices[0];
  device.pins.setAnalog(0, 700);
  const feed = () => sim!.broker!.feed(username, "photocell");
  await until("a reading of 700 stored", () => feed()?.history.some((p) => p.value === "700") ?? false);

  sim.dashboard.write("onoff", "ON");
  await until("the LED on", () => sim!.statusOf(0)?.led === 1);
  expect(device.pins.level(2)).toBe(0); // the on-board LED lights when GPIO 2 is low
});

it("reports a refused key (CONNACK 5) and keeps running", async () => {
  sim = await startSimulation({ main, wrongKey: true });
  await until("the refusal reported", () => (sim!.statusOf(0)?.errors ?? 0) > 0);
  expect(sim.statusOf(0)?.lastError).toMatch(/refused the key/);
  expect(sim.statusOf(0)?.mqtt).not.toBe("connected");
});
