// The example app in the simulator against a broker given as mqtts://: the URL makes the devices use TLS (the app's
// `secure`), here against the local Adafruit IO emulator's TLS listener with its CA as a firmware resource.
import { afterAll, describe, expect, it } from "vitest";
import { startAioBroker, type AioBroker } from "../sim/aio/broker.ts";
import { startSimulation, type Simulation } from "../sim/run/runner.ts";
import { setResource } from "../hosts/node/modules/resource.ts";
import { brokerOption, brokerSettings } from "../tools/options.ts";
import { until } from "./support/wait.ts";

let aio: AioBroker | undefined;
let sim: Simulation | undefined;
afterAll(async () => {
  await sim?.stop();
  await aio?.close();
  setResource("aio-ca.der", undefined);
});

describe("--broker mqtts://", () => {
  it("is accepted beside mqtt://, and says TLS (port 8883 unless given)", () => {
    expect(brokerSettings(brokerOption("mqtts://io.adafruit.com")!)).toEqual({ broker: "io.adafruit.com", port: "8883", secure: "true" });
    expect(brokerSettings(brokerOption("mqtt://10.0.0.2")!)).toEqual({ broker: "10.0.0.2", port: "1883", secure: "false" });
    expect(() => brokerOption("https://io.adafruit.com")).toThrow("--broker https://io.adafruit.com: expected mqtt://host:port or mqtts://host:port (TLS)");
  });

  it("runs the example app over TLS: its readings reach the emulator through its TLS listener", async () => {
    aio = await startAioBroker({ users: { maker: "aio_MAKERKEY" }, tls: true, rateLimitPerMinute: 600 });
    setResource("aio-ca.der", aio.tls!.caDer);
    sim = await startSimulation({ broker: aio.tls!.url, username: "maker", key: "aio_MAKERKEY", interval: 500, config: { ca: "aio-ca.der" } });
    await sim.ready;
    await until("the device connected", () => sim!.statusOf(0)?.mqtt === "connected", 15_000);
    expect(sim.devices[0].device.config.secure).toBe("true");
    await until("a reading stored by the emulator", () => (aio!.feed("maker", "photocell")?.history.length ?? 0) >= 1, 10_000);
    expect(aio.feed("maker", "photocell")!.last!.value).toMatch(/^\d+$/);
    expect(sim.devices[0].trace.join("\n")).toContain("(TLS)");
  });
});
