// The client against a real mosquitto: connect, QoS 0/1/2 round trips, retained, unsubscribe.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MQTTClient, type Message } from "../src/mqtt/client";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { until } from "./support/wait.ts";

let broker: Mosquitto;
const clients: MQTTClient[] = [];

function client(id: string, extra: Partial<ConstructorParameters<typeof MQTTClient>[0]> = {}): MQTTClient {
  const c = new MQTTClient({ host: "127.0.0.1", port: broker.port, clientId: id, keepalive: 30, rxBuffer: 2048, txBuffer: 2048, inflight: 8, queue: 8192, ...extra });
  clients.push(c);
  return c;
}

beforeAll(async () => { broker = await Mosquitto.start(); });
afterAll(async () => { for (const c of clients) c.close(); await broker?.close(); });

describe("MQTTClient with mosquitto", () => {
  it("connects and reports a clean session", async () => {
    const c = client("basic-connect");
    let present: boolean | undefined;
    c.onConnect = (p) => { present = p; };
    await until("CONNACK", () => present !== undefined);
    expect(present).toBe(false);
    expect(c.state).toBe("connected");
  });

  for (const qos of [0, 1, 2] as const) {
    it(`round-trips 200 QoS ${qos} messages in order with exact bytes`, async () => {
      const sub = client(`sub-q${qos}`), pub = client(`pub-q${qos}`);
      const got: string[] = [];
      let subscribed = false;
      sub.onSubscribe = (_f, granted) => { subscribed = granted === qos; };
      sub.subscribe(`t/q${qos}/+`, qos, (m: Message) => {
        expect(m.topicIs(`t/q${qos}/x`)).toBe(true);
        expect(m.qos).toBe(qos);
        got.push(m.text);
      });
      await until("SUBACK", () => subscribed);
      const delivered: number[] = [];
      pub.onDelivered = (id) => delivered.push(id);
      await until("publisher connected", () => pub.connected);
      for (let i = 0; i < 200; i++) pub.publish(`t/q${qos}/x`, `msg-${i}-ü`, qos);
      await until("all messages", () => got.length >= 200);
      expect(got).toEqual(Array.from({ length: 200 }, (_, i) => `msg-${i}-ü`));
      if (qos > 0) await until("all acknowledged", () => delivered.length === 200);
    });
  }

  it("sets and clears a retained message", async () => {
    const pub = client("ret-pub");
    await until("connected", () => pub.connected);
    pub.publish("t/retained", "kept", { qos: 1, retain: true });
    const first = client("ret-sub1");
    const seen: Array<[string, boolean]> = [];
    first.subscribe("t/retained", 1, (m) => seen.push([m.text, m.retain]));
    await until("retained copy", () => seen.length === 1);
    expect(seen[0]).toEqual(["kept", true]);
    pub.publish("t/retained", "", { qos: 1, retain: true });
    await until("clear delivered live", () => seen.length === 2);
    const second = client("ret-sub2");
    let any = false;
    let subscribed = false;
    second.onSubscribe = () => { subscribed = true; };
    second.subscribe("t/retained", 1, () => { any = true; });
    await until("SUBACK", () => subscribed);
    await new Promise((r) => setTimeout(r, 200));
    expect(any).toBe(false);
  });

  it("delivers numbers as decimal text and parses them without allocation helpers", async () => {
    const sub = client("num-sub"), pub = client("num-pub");
    const values: number[] = [];
    let ok = false;
    sub.onSubscribe = () => { ok = true; };
    sub.subscribe("t/num", 0, (m) => values.push(m.number));
    await until("SUBACK", () => ok);
    await until("pub connected", () => pub.connected);
    for (const v of [0, 42, -7, 23.5, 0.125]) pub.publish("t/num", v, 0);
    await until("5 numbers", () => values.length === 5);
    expect(values).toEqual([0, 42, -7, 23.5, 0.125]);
  });

  it("stops delivering after unsubscribe", async () => {
    const sub = client("unsub-sub"), pub = client("unsub-pub");
    let count = 0, ok = false;
    sub.onSubscribe = () => { ok = true; };
    sub.subscribe("t/unsub", 1, () => count++);
    await until("SUBACK", () => ok);
    await until("pub connected", () => pub.connected);
    pub.publish("t/unsub", "a", 1);
    await until("first message", () => count === 1);
    const unsubacks: string[] = [];
    sub.onUnsubscribe = (filter) => unsubacks.push(filter);
    sub.unsubscribe("t/unsub");
    await until("UNSUBACK", () => unsubacks.length === 1);
    expect(unsubacks).toEqual(["t/unsub"]);
    pub.publish("t/unsub", "b", 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(count).toBe(1);
  });

  it("with connect: false waits for setLink(true), then connects", async () => {
    const c = client("link-later", { connect: false });
    await new Promise((r) => setTimeout(r, 200));
    expect(c.state).toBe("offline");
    c.setLink(true);
    await until("connected after setLink(true)", () => c.connected);
  });

  it("unsubscribes a filter it never subscribed (a persistent session may hold it) and reports the UNSUBACK", async () => {
    const c = client("unsub-unknown");
    const unsubacks: string[] = [];
    c.onUnsubscribe = (filter) => unsubacks.push(filter);
    await until("connected", () => c.connected);
    c.unsubscribe("never/subscribed/#");
    await until("UNSUBACK", () => unsubacks.length === 1);
    expect(unsubacks).toEqual(["never/subscribed/#"]);
    expect(() => c.unsubscribe("a/#/b")).toThrow(/not a valid topic filter/);
  });
});
