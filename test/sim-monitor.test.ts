// The simulator's monitoring subscriber keeps watching across a broker restart (it used to end itself on the
// first refused reconnect, so `arrived` and `unconfirmed` went wrong after any restart).
import { afterAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { Monitor } from "../sim/run/monitor.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { until, sleep } from "./support/wait.ts";

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => { while (cleanup.length) await cleanup.pop()!(); });

describe("sim monitor", () => {
  it("reconnects after a broker restart and sees publishes again", async () => {
    const broker = await Mosquitto.start();
    cleanup.push(() => broker.close());
    const seen: string[] = [];
    const monitor = await Monitor.connect({ url: broker.url, filters: ["+/feeds/+"], onMessage: (topic, payload) => seen.push(`${topic}=${payload}`) });
    cleanup.push(() => monitor.close());
    const send = async (value: string) => {
      const c = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      await c.publishAsync("me/feeds/photocell", value, { qos: 1 });
      await c.endAsync();
    };
    await send("1");
    await until("first reading", () => seen.includes("me/feeds/photocell=1"));
    await broker.stop();
    await sleep(1500); // refused reconnects while the broker is down
    await broker.restart();
    await until("monitor connected again", () => monitor.connected, 10_000);
    await sleep(200); // its resubscription
    await send("2");
    await until("reading after the restart", () => seen.includes("me/feeds/photocell=2"), 5000);
    expect(seen).toEqual(["me/feeds/photocell=1", "me/feeds/photocell=2"]);
  });
});
