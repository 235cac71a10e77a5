// aedes 1.2.0 speaks MQTT 3.1.1 only: a 5.0 CONNECT gets a 3.1.1 CONNACK with return code 1 (unacceptable
// protocol version; bytes 20 02 00 01), which the client must report as that, by name, and not as a garbled packet.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Aedes } from "aedes";
import { createServer, type Server } from "node:net";
import { MQTTClient, ErrorCode, type MQTTError } from "../src/mqtt/client";
import { until } from "./support/wait.ts";

let broker: Aedes, server: Server, port = 0;
beforeAll(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => { await new Promise<void>((r) => broker.close(() => server.close(() => r()))); });

describe("MQTT 5.0 with aedes 1.2.0 (3.1.1 only)", () => {
  it("a 5.0 client gets a clear 'unacceptable protocol version' refusal", async () => {
    const errors: MQTTError[] = [];
    const c = new MQTTClient({ host: "127.0.0.1", port, clientId: "aedes-v5", protocolVersion: 5, keepalive: 10, reconnect: false });
    c.onError = (e) => errors.push(e);
    try {
      await until("refused", () => errors.length > 0);
      const e = errors[0];
      // A 3.1.1 CONNACK 1 to a 5.0 CONNECT: read as 0x84 Unsupported Protocol Version, reported as NotSupported
      // (a ConnectionRefused that says what to do about it).
      expect(e.code).toBe(ErrorCode.NotSupported);
      expect(e.reasonCode).toBe(0x84);
      expect(e.message).toMatch(/Unsupported Protocol Version/);
      expect(e.message).toMatch(/protocolVersion 4/);
      expect(c.connected).toBe(false);
    } finally { c.close(); }
  });

  it("the same client in 3.1.1 (the default) connects and round-trips a message", async () => {
    const c = new MQTTClient({ host: "127.0.0.1", port, clientId: "aedes-v4", keepalive: 10, reconnect: false });
    const got: string[] = [];
    try {
      c.subscribe("a/t", 1, (m) => got.push(m.text));
      await until("connected", () => c.connected);
      c.publish("a/t", "v4", 1);
      await until("message", () => got.length === 1);
      expect(got).toEqual(["v4"]);
    } finally { c.close(); }
  });
});
