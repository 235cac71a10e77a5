// Broker failover: two mosquittos bridged to each other; a publisher with both in its `brokers` list sends a
// stream to the first, which is killed mid-stream. The client moves to the second and resends what was not
// acknowledged. QoS 1: none lost (duplicates allowed). QoS 2: none twice; a message the dead broker had already
// taken (PUBREC) is its responsibility, and MQTT forbids sending that PUBLISH again, so up to the in-flight window
// of those can be lost with the broker: exactly-once cannot span two brokers that do not share state.
import { afterEach, describe, expect, it } from "vitest";
import { MQTTClient, type Message } from "../src/mqtt/client";
import { Device } from "../sim/board/device.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { until, sleep } from "./support/wait.ts";

const cleanup: Array<() => unknown> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function bridgedPair(): Promise<{ a: Mosquitto; b: Mosquitto }> {
  const b = await Mosquitto.start();
  cleanup.push(() => b.close());
  // a forwards everything to b (and back): what reached a before it died was passed on at QoS 2.
  const a = await Mosquitto.start({ config: [
    "connection a-to-b", `address 127.0.0.1:${b.port}`, "topic # both 2", "bridge_protocol_version mqttv311",
    "cleansession false", "restart_timeout 1", "start_type automatic",
  ] });
  cleanup.push(() => a.close());
  return { a, b };
}

function client(id: string, options: Partial<ConstructorParameters<typeof MQTTClient>[0]>): MQTTClient {
  const device = new Device({ id, trace: () => {} });
  const c = device.run(() => new MQTTClient({ clientId: id, keepalive: 5, inflight: 4, queue: 20_000, reconnect: { min: 50, max: 200 }, ...options }));
  cleanup.push(() => device.run(() => c.close()));
  return c;
}

describe("broker failover", () => {
  for (const qos of [1, 2] as const) {
    it(`moves to the next broker when the one in use dies mid-stream: QoS ${qos}, ${qos === 1 ? "none lost" : "none twice, at most the in-flight window lost with the broker"}`, async () => {
      const { a, b } = await bridgedPair();
      const got = new Map<number, number>();
      const sub = client(`fo-sub-${qos}`, { host: "127.0.0.1", port: b.port, cleanSession: false });
      let subscribed = false;
      sub.onSubscribe = () => { subscribed = true; };
      sub.subscribe("fo/readings", qos, (m: Message) => got.set(m.number, (got.get(m.number) ?? 0) + 1));
      await until("subscriber ready", () => subscribed, 5000);
      await sleep(300); // the bridge a -> b is up (restart_timeout 1 s covers a slow start)

      const pub = client(`fo-pub-${qos}`, { brokers: [{ host: "127.0.0.1", port: a.port }, { host: "127.0.0.1", port: b.port }], cleanSession: false });
      const errors: string[] = [];
      pub.onError = (e) => errors.push(e.message);
      await until("publisher on the first broker", () => pub.connected && pub.port === a.port, 5000);
      const N = 400;
      let delivered = 0;
      pub.onDelivered = () => { delivered++; };
      for (let i = 0; i < N; i++) {
        if (i === 150) await a.kill(); // SIGKILL mid-stream, with messages in flight
        while (pub.session.queued > 200) await sleep(5);
        pub.publish("fo/readings", i, qos);
        if (i % 10 === 0) await sleep(2);
      }
      await until("every publish acknowledged", () => pub.session.queued === 0 && pub.session.inflight.count === 0, 10_000);
      expect(pub.port).toBe(b.port);
      expect(pub.reconnects).toBeGreaterThanOrEqual(1);
      const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !got.has(i));
      if (qos === 1) expect(missing).toEqual([]);
      else {
        expect([...got.entries()].filter(([, n]) => n > 1)).toEqual([]);
        expect(missing.length).toBeLessThanOrEqual(4); // inflight: 4
        expect(missing.every((i) => i < 150 + 4)).toBe(true); // only around the kill
      }
      expect(delivered).toBeGreaterThanOrEqual(N - 150); // at least what went to b was acknowledged there
    });
  }

  it("checks the broker list", () => {
    expect(() => new MQTTClient({ clientId: "x", connect: false })).toThrow(/options.host is required.*or options.brokers/);
    expect(() => new MQTTClient({ clientId: "x", connect: false, brokers: [{ host: "h", port: 70000 }] })).toThrow(/broker 0 \(h\): port 70000/);
    const c = new MQTTClient({ clientId: "x", connect: false, host: "first", brokers: [{ host: "second", port: 8883 }] });
    expect(c.brokers.map((x) => `${x.host}:${x.port ?? 1883}`)).toEqual(["first:1883", "second:8883"]);
    c.close();
  });
});
