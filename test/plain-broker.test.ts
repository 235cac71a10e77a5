// The simulator's plain local MQTT broker (sim/brokers/plain.ts): any topic, a login checked when users are
// given (a wrong password gets CONNACK 5), retained messages kept across a restart, publishes observed.
import { afterEach, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { startPlainBroker, type PlainBroker } from "../sim/brokers/plain.ts";

let broker: PlainBroker | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await broker?.close();
  broker = undefined;
});

function connect(options: { username?: string; password?: string } = {}): Promise<MqttClient> {
  const c = mqtt.connect(broker!.url, { ...options, reconnectPeriod: 0, connectTimeout: 5000 });
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once("connect", () => resolve(c));
    c.once("error", reject);
  });
}

describe("plain local broker", () => {
  it("refuses a wrong password with CONNACK 5 and lets the right one in", async () => {
    broker = await startPlainBroker({ users: { maker: "s3cret" } });
    await expect(connect({ username: "maker", password: "wrong" })).rejects.toMatchObject({ code: 5 });
    await expect(connect({ username: "nobody", password: "s3cret" })).rejects.toMatchObject({ code: 5 });
    await connect({ username: "maker", password: "s3cret" });
  });

  it("passes any topic, reports client publishes, and keeps retained values across a restart", async () => {
    broker = await startPlainBroker();
    const seen: string[] = [];
    broker.onPublish((e) => seen.push(`${e.topic}=${e.payload}`));
    const a = await connect();
    await a.publishAsync("home/porch/light", "412", { qos: 1 });
    expect(seen).toEqual(["home/porch/light=412"]);
    broker.publish("home/porch/onoff", "ON", true);
    await broker.restart({ downMs: 100 });
    const b = await connect();
    const got = new Promise<string>((resolve) => b.on("message", (topic, payload) => resolve(`${topic}=${payload}`)));
    await b.subscribeAsync("home/porch/onoff", { qos: 1 });
    expect(await got).toBe("home/porch/onoff=ON");
  });
});
