// A fleet spread over worker processes (sim/run/fleet.ts) against mosquitto: the slices number their users and
// client ids across the fleet (a clash would make mosquitto drop one of two clients with the same id, so the
// connected count would flap), each watches its own readings, and the parent keeps one summary.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { Fleet } from "../sim/run/fleet.ts";
import { sleep, until } from "./support/wait.ts";

describe("a fleet over worker processes", () => {
  let broker: Mosquitto;
  let fleet: Fleet | undefined;
  beforeAll(async () => { broker = await Mosquitto.start(); });
  afterAll(async () => {
    await fleet?.stop();
    await broker?.close();
  });

  it("runs 2 x 10 devices as one fleet: one summary, every reading of the window arrived", { timeout: 90_000 }, async () => {
    fleet = await Fleet.start({ devices: 20, workers: 2, broker: broker.url, interval: 500, startWindowMs: 500 });
    await until("all 20 connected", () => fleet!.summary().connected === 20, 30_000);
    const s = fleet.summary();
    expect(s.devices).toBe(20);
    expect(s.started).toBe(20);
    await fleet.mark();
    await sleep(3000);
    const w = await fleet.measure(5000);
    expect(w.workers).toBe(2);
    expect(w.minConnected).toBe(20);
    expect(w.lost).toBe(0);
    expect(w.arrived).toBeGreaterThanOrEqual(20 * 4); // 2 readings/s per device for ~3 s, with margin
    expect(w.p50).toBeGreaterThanOrEqual(0);
    expect(fleet.connects()).toBe(20); // one connection each: no client was thrown off by an id clash
  });
});
