// The simulation API that tests and tools drive: one device running the app against the local broker,
// with every fault the CLI offers injected through code, and the dashboard writing feeds.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { startSimulation, type Simulation } from "../sim/run/runner.ts";
import { until, sleep } from "./support/wait.ts";

let sim: Simulation;
const status = () => sim.statusOf(0)!;
const connected = () => sim.statusOf(0)?.mqtt === "connected";

beforeAll(async () => {
  sim = await startSimulation({ interval: 500 });
  await sim.ready;
  await until("the device to connect", connected, 10_000);
});
afterAll(async () => { await sim?.stop(); });

describe("startSimulation", () => {
  it("runs the app on an ESP8266-like TCP stack and tracks every reading to the broker", async () => {
    const net = sim.devices[0].device.network;
    expect(net.sendWindow).toBe(2 * 1460);
    expect(net.maxReadChunk).toBe(1460);
    await until("three readings stored by the broker", () => (sim.tracker?.arrived ?? 0) >= 3, 12_000);
    const feed = sim.broker!.feed(sim.devices[0].username, "photocell");
    expect(feed?.last?.value).toMatch(/^\d+$/);
    expect(status().lastReading).toBeGreaterThanOrEqual(0);
  });

  it("holds readings while the link is blackholed and delivers all of them when it is lifted", async () => {
    const arrived = sim.tracker!.arrived;
    const published = status().published;
    sim.faults.blackhole(true);
    await until("two readings published into the blackhole", () => status().published >= published + 2, 8000);
    expect(sim.tracker!.arrived).toBeLessThanOrEqual(arrived + 1); // at most one was already on its way
    sim.faults.blackhole(false);
    await until("everything published to arrive", () => sim.tracker!.inFlight === 0 && sim.tracker!.arrived >= arrived + 2, 10_000);
    expect(sim.tracker!.skipped).toBe(0);
  });

  it("reconnects after a TCP reset and after a broker restart, and still gets dashboard writes", async () => {
    const r0 = status().reconnects;
    sim.faults.killConnections();
    await until("a reconnect after the reset", () => status().reconnects > r0 && connected(), 10_000);
    const r1 = status().reconnects;
    await sim.faults.restartBroker(300);
    await until("a reconnect after the broker restart", () => status().reconnects > r1 && connected(), 20_000);
    await sleep(300); // SUBACK
    const led = status().led;
    sim.dashboard.toggleOnoff();
    await until("the LED to follow onoff after the restart", () => status().led !== led);
  });

  it("rejoins Wi-Fi after the station is dropped", async () => {
    sim.faults.dropWifi(1000, 0);
    await until("Wi-Fi to be lost", () => status().wifi !== "connected");
    expect(sim.devices[0].device.network.linkUp).toBe(false);
    await until("Wi-Fi and MQTT back", () => status().wifi === "connected" && connected(), 15_000);
    expect(status().ip).toMatch(/^192\.168\.\d+\.\d+$/);
  });

  it("passes messages intact through 7-byte partial reads and added latency", async () => {
    sim.faults.setReadChunk(7);
    sim.faults.setLatency(50);
    const value = sim.dashboard.moveSlider(-30);
    await until("the slider value to arrive in pieces", () => status().slider === value);
    const arrived = sim.tracker!.arrived;
    await until("readings to keep arriving", () => sim.tracker!.arrived >= arrived + 2, 12_000);
    expect(status().errors).toBe(0);
    sim.faults.setReadChunk(1460);
    sim.faults.setLatency(0);
  });
});
