// src/main.ts on a simulated board (xsmq/sim) against a local plain MQTT broker: readings on {{name}}/photocell,
// a retained "online" status, and the LED switched by a retained {{name}}/onoff.
import { afterEach, expect, it } from "vitest";
import { startSimulation, type Simulation } from "xsmq/sim";
import main from "../src/main.ts";
import { until } from "./until.ts";

let sim: Simulation | undefined;
afterEach(async () => { await sim?.stop(); sim = undefined; });

it("publishes the photocell, says it is online and switches the LED from onoff", async () => {
  sim = await startSimulation({ main, interval: 1000, localBroker: "mqtt", config: { topic: "{{name}}" } });
  const seen = new Map<string, string>();
  sim.plainBroker!.onPublish((e) => seen.set(e.topic, e.payload));
  const { device } = sim.devices[0];
  device.pins.setAnalog(0, 700);
  await until("a reading of 700", () => seen.get("{{name}}/photocell") === "700");
  await until("the status online", () => seen.get("{{name}}/status") === "online");

  sim.dashboard.write("onoff", "ON"); // retained on {{name}}/onoff
  await until("the LED on", () => sim!.statusOf(0)?.led === 1);
  expect(device.pins.level(2)).toBe(0); // the on-board LED lights when GPIO 2 is low
});
