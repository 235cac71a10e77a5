// The client inside the real XS engine speaking MQTT 5.0 to mosquitto 2.0.11, with MQTT.js 5 on the other side:
// what runs on a board reads and writes 5.0 properties as the Node-hosted tests see them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { XSHost } from "../sim/xs/host.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";

describe("MQTT 5.0 client inside XS against mosquitto", () => {
  let broker: Mosquitto;
  let xs: XSHost;
  let peer: mqtt.MqttClient;

  beforeAll(async () => {
    broker = await Mosquitto.start({ config: ["max_inflight_messages 5"] });
    xs = await XSHost.start({ entry: "test/support/xs/client-v5.ts" });
    peer = await mqtt.connectAsync(broker.url, { clientId: "xs-v5-peer", protocolVersion: 5, reconnectPeriod: 0 });
  }, 60_000);

  afterAll(async () => {
    await xs?.call("close").catch(() => undefined);
    await peer?.endAsync().catch(() => undefined);
    await xs?.close();
    await broker?.close();
  });

  it("connects in 5.0 and reads the CONNACK's limits inside XS", async () => {
    expect(await xs.call("connect", broker.port, "xs-v5")).toEqual({ receiveMaximum: 5, topicAliasMaximum: 10, maximumQoS: 2, retainAvailable: true });
  });

  it("reads an MQTT.js 5.0 message's properties through Message's getters in XS", async () => {
    expect(await xs.call("subscribe", "xs5/in/#", 2, 42)).toBe(2);
    await peer.publishAsync("xs5/in/a", '{"t":1}', { qos: 1, properties: {
      contentType: "application/json", responseTopic: "xs5/reply", correlationData: Buffer.from([0xca, 0xfe]),
      userProperties: { b: "2", a: ["x", "y"] }, payloadFormatIndicator: true, messageExpiryInterval: 600,
    } });
    await peer.publishAsync("xs5/in/b", "plain", { qos: 2 });
    expect(await xs.call("waitSeen", 2)).toEqual([
      'xs5/in/a|1|{"t":1}|application/json|xs5/reply|cafe|a=x,y,b=2|42|1|expiry|json',
      "xs5/in/b|2|plain|-|-|-||42|-1|none|other",
    ]);
  });

  for (const qos of [0, 1, 2] as const) {
    it(`publishes QoS ${qos} from XS with a Properties made once; MQTT.js reads every property`, async () => {
      const got: Array<Record<string, unknown>> = [];
      await peer.subscribeAsync(`xs5/out/${qos}`, { qos: 2 });
      const on = (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => {
        if (topic === `xs5/out/${qos}`) got.push({ payload: payload.toString(), ...packet.properties, correlationData: [...(packet.properties?.correlationData ?? [])] });
      };
      peer.on("message", on);
      try {
        expect(await xs.call("publish", `xs5/out/${qos}`, qos, 20)).toBe(0);
        await expect.poll(() => got.length, { timeout: 5000 }).toBe(20);
        expect(got).toEqual(Array.from({ length: 20 }, (_, i) => ({
          payload: `{"i":${i}}`, contentType: "application/json", userProperties: { from: "xs" }, correlationData: [1, 2, 3], payloadFormatIndicator: true,
        })));
      } finally { peer.off("message", on); }
    });
  }

  it("reported no errors inside XS", async () => {
    expect(await xs.call("errorsSeen")).toEqual([]);
  });
});
