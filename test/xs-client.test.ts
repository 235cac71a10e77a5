// The real MQTT client (src/mqtt) running inside the XS engine against a real mosquitto: QoS 0/1/2 publish and
// subscribe round trips, messages from an independent client (MQTT.js) into XS, and no heap growth per message.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { XSHost, esp8266 } from "../sim/xs/host.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";

describe("MQTT client inside XS against mosquitto", () => {
  let broker: Mosquitto;
  let xs: XSHost;
  let peer: mqtt.MqttClient;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    // Every crank is checked against an ESP8266-sized slot budget: exceeding it fails the run loudly.
    xs = await XSHost.start({ entry: "sim/xs/entries/client.ts", slotBudget: esp8266.appSlotBudget });
    peer = await mqtt.connectAsync(broker.url, { clientId: "xs-test-peer", reconnectPeriod: 0 });
  });

  afterAll(async () => {
    await peer?.endAsync().catch(() => undefined);
    await xs?.close();
    await broker?.close();
  });

  it("connects with a clean session", async () => {
    expect(await xs.call("connect", broker.port, "xs-client-1")).toEqual({ sessionPresent: false });
  });

  it("QoS 0/1/2: what XS publishes comes back to its own subscription, in order, exactly once", async () => {
    expect(await xs.call("subscribe", "xs/rt/#", 2, true)).toBe(2);
    const seenByPeer: string[] = [];
    await peer.subscribeAsync("xs/rt/#", { qos: 2 });
    peer.on("message", (topic, payload) => { if (topic.startsWith("xs/rt/")) seenByPeer.push(`${topic} ${payload}`); });
    for (const qos of [0, 1, 2] as const) {
      const r = await xs.call<{ delivered: number; errors: number }>("publish", `xs/rt/q${qos}`, qos, 5);
      expect(r).toEqual({ delivered: qos > 0 ? 5 : 0, errors: 0 });
    }
    await xs.call("waitReceived", 15, 10_000);
    const expected = [0, 1, 2].flatMap((q) => [0, 1, 2, 3, 4].map((i) => `xs/rt/q${q} q${q} ${i}`));
    expect(await xs.call("collected")).toEqual(expected);
    // An independent client saw the same messages: the bytes XS wrote are real MQTT.
    await expect.poll(() => seenByPeer.length, { timeout: 5000 }).toBe(15);
    expect(seenByPeer).toEqual([0, 1, 2].flatMap((q) => [0, 1, 2, 3, 4].map((i) => `xs/rt/q${q} ${i}`)));
  });

  it("receives QoS 0/1/2 messages published by MQTT.js", async () => {
    const before = (await xs.call<{ received: number }>("counts")).received;
    for (const qos of [0, 1, 2] as const) await peer.publishAsync(`xs/rt/from-peer/q${qos}`, `hello ${qos}`, { qos });
    await xs.call("waitReceived", before + 3, 5000);
    const texts = (await xs.call<string[]>("collected")).slice(-3);
    expect(texts).toEqual([0, 1, 2].map((q) => `xs/rt/from-peer/q${q} q${q} hello ${q}`));
  });

  it("steady QoS 1 publishing keeps no XS heap slots per message", async () => {
    expect(await xs.call("subscribe", "xs/steady", 1, false)).toBe(1);
    const before = (await xs.call<{ received: number }>("counts")).received;
    await xs.call("publish", "xs/steady", 1, 50); // warm up
    await xs.call("waitReceived", before + 50, 10_000);
    const start = await xs.liveSlots();
    await xs.call("publish", "xs/steady", 1, 300);
    await xs.call("waitReceived", before + 350, 10_000);
    const growth = (await xs.liveSlots()) - start;
    expect(growth, `${growth} slots kept after 300 publish+receive round trips`).toBeLessThanOrEqual(0);
    expect(xs.faults).toEqual([]);
    expect(await xs.call("counts")).toMatchObject({ errors: 0 });
  });
});
