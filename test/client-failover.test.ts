// Broker failover: two mosquittos bridged to each other; a publisher with both in its `brokers` list sends a
// stream to the first, which is killed (SIGKILL) mid-stream. The client moves to the second and resends what was
// not acknowledged: every reading ends up acknowledged by a broker, and the subscriber on the second broker gets
// every reading acknowledged after the failover. What the killed broker had acknowledged (PUBACK, PUBREC) but not
// yet passed over the bridge dies with it: that is the broker's loss, and MQTT forbids the client to send a
// PUBREC'd PUBLISH again, so exactly-once cannot span two brokers that share no state. QoS 2: none twice.
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
    it(`moves to the next broker when the one in use dies mid-stream: QoS ${qos}, nothing lost by the client${qos === 2 ? ", none twice" : ""}`, async () => {
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
      let ackedByFirst = -1;
      for (let i = 0; i < N; i++) {
        if (i === 150) {
          await a.kill(); // SIGKILL mid-stream, with messages in flight
          ackedByFirst = delivered; // acknowledgements arrive in order, at most `inflight` (4) ahead of them
        }
        while (pub.session.queued > 200) await sleep(5);
        pub.publish("fo/readings", i, qos);
        if (i % 10 === 0) await sleep(2);
      }
      await until("every publish acknowledged", () => pub.session.queued === 0 && pub.session.inflight.count === 0, 10_000);
      expect(pub.port).toBe(b.port);
      expect(pub.reconnects).toBeGreaterThanOrEqual(1);
      expect(delivered).toBe(N); // every reading acknowledged by one broker or the other
      const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !got.has(i));
      // Only readings the first broker had acknowledged can be missing (its bridge queue died with it).
      expect(missing.filter((i) => i >= ackedByFirst + 4)).toEqual([]);
      if (qos === 2) expect([...got.entries()].filter(([, n]) => n > 1)).toEqual([]);
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
