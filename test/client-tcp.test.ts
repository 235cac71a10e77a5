// The client on the ECMA-419 TCP transport (src/net/tcp-transport.ts) against a real mosquitto: QoS 0/1/2 round
// trips with exact bytes (small and 1 KB+ payloads, so bulk reads span socket chunks), and a broker restart mid-stream.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MQTTClient, type Message } from "../src/mqtt/client";
import { TcpTransport } from "../src/net/tcp-transport";
import { Device } from "../sim/board/device.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { until, sleep } from "./support/wait.ts";

type Options = ConstructorParameters<typeof MQTTClient>[0];

let broker: Mosquitto;
const cleanup: Array<() => unknown> = [];
beforeAll(async () => { broker = await Mosquitto.start(); });
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });
afterAll(async () => { await broker?.close(); });

/** A client on its own device (own network counters) over TcpTransport; `readChunk` small to force many reads. */
function client(port: number, id: string, extra: Partial<Options> = {}, readChunk?: number): { c: MQTTClient; device: Device } {
  const device = new Device({ id, trace: () => {} });
  const c = device.run(() => new MQTTClient({
    host: "127.0.0.1", port, clientId: id, keepalive: 30, rxBuffer: 4096, txBuffer: 4096, inflight: 16, inflightIn: 32, queue: 500_000,
    reconnect: { min: 50, max: 300 }, transport: new TcpTransport(readChunk ?? 4096), ...extra,
  }));
  cleanup.push(() => device.run(() => c.close()));
  return { c, device };
}

function payload(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k * 7) & 255;
  return b;
}

describe("MQTTClient over embedded:io/socket/tcp with mosquitto", () => {
  for (const qos of [0, 1, 2] as const) {
    for (const [size, readChunk] of [[16, undefined], [3000, 100], [3000, undefined]] as const) {
      it(`round-trips 150 QoS ${qos} messages of ${size} B in order, byte for byte (read chunk ${readChunk ?? "4096"})`, async () => {
        const sub = client(broker.port, `tcp-sub-${qos}-${size}`, {}, readChunk).c;
        const pubSide = client(broker.port, `tcp-pub-${qos}-${size}`);
        const pub = pubSide.c;
        const got: Uint8Array[] = [];
        let subscribed = false;
        sub.onSubscribe = (_f, granted) => { subscribed = granted === qos; };
        sub.subscribe(`tcp/q${qos}/${size}`, qos, (m: Message) => {
          const copy = new Uint8Array(m.length);
          for (let k = 0; k < m.length; k++) copy[k] = m.byte(k);
          got.push(copy);
        });
        await until("SUBACK", () => subscribed);
        await until("publisher connected", () => pub.connected);
        const delivered: number[] = [];
        pub.onDelivered = (id) => delivered.push(id);
        for (let i = 0; i < 150; i++) expect(pubSide.device.run(() => pub.publish(`tcp/q${qos}/${size}`, payload(i, size), qos))).toBeGreaterThanOrEqual(0);
        await until("all messages", () => got.length >= 150, 10000);
        // First differing message, if any (a plain comparison: toEqual on 150 x 3 KB arrays takes seconds).
        const bad = got.findIndex((g, i) => Buffer.compare(g, payload(i, size)) !== 0);
        expect(bad).toBe(-1);
        expect(got.length).toBe(150);
        if (qos > 0) await until("all acknowledged", () => delivered.length === 150);
        expect(pubSide.device.network.bytesOut).toBeGreaterThan(150 * size);
      });
    }
  }

  it("reconnects after a broker restart and delivers every QoS 1 message", async () => {
    const m = await Mosquitto.start({ persistence: true });
    cleanup.push(() => m.close());
    const counts = new Map<number, number>();
    const sub = client(m.port, "tcp-restart-sub", { cleanSession: false }).c;
    let subscribed = false;
    sub.onSubscribe = () => { subscribed = true; };
    sub.subscribe("tcp/restart", 1, (msg) => { const n = msg.number; counts.set(n, (counts.get(n) ?? 0) + 1); });
    await until("SUBACK", () => subscribed);
    const pubSide = client(m.port, "tcp-restart-pub", { cleanSession: false });
    const pub = pubSide.c;
    await until("publisher connected", () => pub.connected);
    const total = 300;
    let sent = 0, restarted = false;
    while (sent < total) {
      pubSide.device.run(() => { for (let k = 0; k < 20 && sent < total; k++) pub.publish("tcp/restart", sent++, 1); });
      await sleep(2);
      if (!restarted && sent >= total / 2) { restarted = true; await m.restart(); }
    }
    await until(`all ${total} messages`, () => counts.size === total, 20000)
      .catch((e) => { throw new Error(`${e.message}: got ${counts.size}, states ${pub.state}/${sub.state}, reconnects ${pub.reconnects}/${sub.reconnects}`); });
    expect(pub.reconnects).toBeGreaterThan(0);
    expect(sub.reconnects).toBeGreaterThan(0);
    for (let i = 0; i < total; i++) expect(counts.get(i), `message ${i}`).toBeGreaterThanOrEqual(1);
  }, 30000);
});
