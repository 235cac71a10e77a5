// The fleet summary's latency counts readings sent while connected; readings an app queued before its device's
// first connection are counted apart (they leave in one burst when it connects), with the time to connect.
import { afterEach, describe, expect, it } from "vitest";
import { DeliveryTracker } from "../sim/run/latency.ts";
import { startSimulation, type Simulation } from "../sim/run/runner.ts";
import { fleetLine } from "../sim/run/summary.ts";

describe("DeliveryTracker", () => {
  it("keeps the backlog a device had at its first connection out of the latency samples", () => {
    const t = new DeliveryTracker();
    t.firstConnect(0, 2000, 2);
    t.firstConnect(0, 9000, 5); // only the first connection counts
    for (const [i, at] of [[1, 0], [2, 1], [3, 2]]) t.published(0, "photocell", String(i), at);
    expect(t.arrivedAt(0, "photocell", "1", 900)).toBe(900);  // backlog: reported, not sampled
    expect(t.arrivedAt(0, "photocell", "2", 901)).toBe(900);
    expect(t.arrivedAt(0, "photocell", "3", 7)).toBe(5);
    expect(t.backlog).toBe(2);
    expect(t.backlogArrived).toBe(2);
    expect(t.arrived).toBe(3);
    expect(t.percentile(50)).toBe(5);
    expect(t.percentile(99)).toBe(5);
    expect(t.connectPercentile(50)).toBe(2000);
  });

  it("has no backlog for a device that connected before it published", () => {
    const t = new DeliveryTracker();
    t.firstConnect(1, 1500, 0);
    t.published(1, "photocell", "7", 10);
    expect(t.arrivedAt(1, "photocell", "7", 12)).toBe(2);
    expect(t.backlog).toBe(0);
    expect(t.percentile(99)).toBe(2);
  });
});

describe("a simulation's summary", () => {
  let sim: Simulation | undefined;
  afterEach(async () => { await sim?.stop(); sim = undefined; });

  it("reports readings queued while Wi-Fi joined apart from delivery latency, and says so in the fleet line", async () => {
    // Readings every 200 ms; joining Wi-Fi takes about 2 s, so several wait for the first connection.
    sim = await startSimulation({ devices: 3, interval: 200 });
    const s = await new Promise<ReturnType<Simulation["summary"]>>((resolve) => {
      const poll = setInterval(() => {
        const now = sim!.summary();
        if (now.connected === 3 && sim!.tracker!.backlogArrived >= (now.backlog ?? Infinity) && sim!.tracker!.arrived > now.backlog! + 3) {
          clearInterval(poll);
          resolve(now);
        }
      }, 50);
    });
    expect(s.backlog).toBeGreaterThanOrEqual(3);
    expect(s.latencyP99Ms).toBeDefined();
    expect(s.firstConnectP50Ms).toBeGreaterThan(0);
    expect(s.firstConnectP99Ms).toBeGreaterThanOrEqual(s.firstConnectP50Ms!);
    expect(fleetLine(s)).toMatch(/, \d+ queued before connecting \(first connect p50 \d+ ms p99 \d+ ms\)/);
  });
});
