// A simulated fleet spread over several external brokers (the nodes of a cluster, say): device i connects to the
// (i mod n)-th, the monitoring subscriber to the first, logged in as the first device when the fleet has a key.
import { afterAll, expect, it } from "vitest";
import { startSimulation, fleetUser, type Simulation } from "../sim/run/runner.ts";
import { BrokerProxy } from "../sim/brokers/proxy.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { until } from "./support/wait.ts";

const cleanup: Array<() => unknown> = [];
afterAll(async () => { while (cleanup.length) await cleanup.pop()!(); });

it("spreads the devices over broker and brokers; the monitor logs in with the fleet's key", async () => {
  const key = "fleet-key";
  const users = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [fleetUser(i), key]));
  const proxies: BrokerProxy[] = [];
  for (let i = 0; i < 2; i++) {
    const m = await Mosquitto.start({ users }); // a password file: a login without the key is refused
    cleanup.push(() => m.close());
    const p = await BrokerProxy.start(m.port);
    cleanup.push(() => p.close());
    proxies.push(p);
  }
  const [first, second] = proxies.map((p) => `mqtt://127.0.0.1:${p.port}`);
  const sim: Simulation = await startSimulation({ devices: 4, broker: first, brokers: [second], key, interval: 500, startWindowMs: 100 });
  cleanup.push(() => sim.stop());
  expect(sim.monitorError).toBeUndefined();
  await until("4 devices connected", () => sim.summary().connected === 4, 20_000);
  // Devices 1 and 3 and the monitor on the first broker, devices 2 and 4 on the second.
  expect(proxies.map((p) => p.connections)).toEqual([3, 2]);
  // Readings from the first broker's devices reach the monitor there.
  await until("readings arriving", () => (sim.tracker?.arrived ?? 0) >= 2, 10_000);
});
