// wss://: WebSocketTransport over TlsTransport (the simulator's `securesocket`) against mosquitto's websockets
// listener with a CA and certificate made by the test: QoS 0/1/2 round trips, nothing readable on the wire, and a
// TLS failure reported as the TLS transport words it (the WebSocket layer never got to speak).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { MQTTClient, type Message, type MQTTError } from "../src/mqtt/client";
import { TlsTransport, type TlsOptions } from "../src/net/tls-transport";
import { WebSocketTransport } from "../src/net/ws-transport";
import { Device } from "../sim/board/device.ts";
import { TestCA, type BrokerCertificate } from "../sim/brokers/tls-certs.ts";
import { setResource } from "../hosts/node/modules/resource.ts";
import { Mosquitto, freePort } from "../sim/brokers/mosquitto.ts";
import { until } from "./support/wait.ts";

let ca: TestCA, otherCA: TestCA;
let broker: Mosquitto;
const port = { good: 0, unknownCA: 0 };
const cleanup: Array<() => unknown> = [];

/** mosquitto.conf lines of a WebSocket-over-TLS listener on loopback (`lo`: libwebsockets binds interfaces). */
function wssListener(p: number, authority: TestCA, cert: BrokerCertificate): string[] {
  return [`listener ${p} lo`, "protocol websockets", `cafile ${authority.pemFile}`, `certfile ${cert.chainFile}`, `keyfile ${cert.keyFile}`];
}

beforeAll(async () => {
  ca = new TestCA();
  otherCA = new TestCA("some other CA");
  port.good = await freePort();
  port.unknownCA = await freePort();
  broker = await Mosquitto.start({ config: [...wssListener(port.good, ca, ca.issue("good")), ...wssListener(port.unknownCA, otherCA, otherCA.issue("other"))] });
  setResource("wss-ca.der", ca.der);
}, 60_000);
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });
afterAll(async () => {
  await broker?.close();
  setResource("wss-ca.der", undefined);
  for (const c of [ca, otherCA]) if (c) rmSync(c.dir, { recursive: true, force: true });
});

interface Side { c: MQTTClient; device: Device; closes: MQTTError[]; wire: Buffer[] }

function client(id: string, p: number, tls: TlsOptions = { ca: "wss-ca.der" }): Side {
  const device = new Device({ id, trace: () => {} });
  const wire: Buffer[] = [];
  device.network.sniffer = (_endpoint, bytes) => { wire.push(Buffer.from(bytes)); };
  const c = device.run(() => new MQTTClient({
    host: "127.0.0.1", port: p, clientId: id, keepalive: 30, rxBuffer: 4096, txBuffer: 4096, inflight: 16, inflightIn: 256, queue: 500_000,
    reconnect: false, username: "wss-user", password: "wss_SECRET_KEY",
    transport: new WebSocketTransport({ transport: new TlsTransport(tls), frameSize: 4096 }),
  }));
  const side: Side = { c, device, closes: [], wire };
  c.onClose = (e) => { if (e) side.closes.push(e); };
  cleanup.push(() => device.run(() => c.close()));
  return side;
}

function payload(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k * 7) & 255;
  return b;
}

describe("MQTT over WebSocket over TLS with mosquitto", () => {
  for (const qos of [0, 1, 2] as const) {
    for (const size of [16, 3000]) {
      it(`round-trips 100 QoS ${qos} messages of ${size} B in order, byte for byte`, async () => {
        const topic = `wss/q${qos}/${size}`;
        const sub = client(`wss-sub-${qos}-${size}`, port.good).c;
        const pubSide = client(`wss-pub-${qos}-${size}`, port.good);
        const pub = pubSide.c;
        const got: Uint8Array[] = [];
        let granted = -1;
        sub.onSubscribe = (_f, g) => { granted = g; };
        sub.subscribe(topic, qos, (m: Message) => {
          const copy = new Uint8Array(m.length);
          for (let k = 0; k < m.length; k++) copy[k] = m.byte(k);
          got.push(copy);
        });
        await until("SUBACK", () => granted >= 0, 20000);
        expect(granted).toBe(qos);
        await until("publisher connected", () => pub.connected, 20000);
        const delivered: number[] = [];
        pub.onDelivered = (id) => delivered.push(id);
        for (let i = 0; i < 100; i++) expect(pubSide.device.run(() => pub.publish(topic, payload(i, size), qos))).toBeGreaterThanOrEqual(0);
        await until("all messages", () => got.length >= 100, 15000);
        expect(got.findIndex((g, i) => Buffer.compare(g, payload(i, size)) !== 0)).toBe(-1);
        expect(got.length).toBe(100);
        if (qos > 0) await until("all acknowledged", () => delivered.length === 100);
        expect(pubSide.closes).toEqual([]);
        // Neither the upgrade request nor the password crossed the network in clear.
        const sent = Buffer.concat(pubSide.wire);
        expect(sent[0], "a TLS handshake record first").toBe(0x16);
        expect(sent.includes("Sec-WebSocket-Key")).toBe(false);
        expect(sent.includes("wss_SECRET_KEY")).toBe(false);
      });
    }
  }

  it("a broker certificate from an unknown CA fails in TLS, reported by the TLS transport (the WebSocket layer never spoke)", async () => {
    const side = client("wss-unknown-ca", port.unknownCA);
    await until("the failure", () => side.closes.length > 0, 10000);
    expect(side.c.connected).toBe(false);
    expect(side.closes[0].message).toMatch(new RegExp(`^connection lost: TLS to 127\\.0\\.0\\.1:${port.unknownCA}: `));
    expect(side.closes[0].message).not.toMatch(/WebSocket/);
  });
});
