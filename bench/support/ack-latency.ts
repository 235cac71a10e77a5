// Publish-to-acknowledgement time (PUBACK for QoS 1, PUBCOMP for QoS 2) of one publisher at a fixed rate, in a
// fresh process: `node bin/run-ts.js bench/support/ack-latency.ts JSON`, the result printed as the last line.
// Ours runs on a simulated board (the simulator's lwip timing), MQTT.js on node:net or (`board`) on a simulated
// board too, over the simulator's socket: the same TCP timing for both. `src` runs another
// checkout's client (an older commit's src/, from `git archive`) on this simulator: a before/after comparison
// then changes the client alone.
import { performance } from "node:perf_hooks";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import mqtt from "mqtt";
import { Device } from "../../sim/board/device.ts";
import { percentile } from "./drive.ts";
import { constantPayload } from "./peers.ts";
import { SimulatedSocketStream } from "./sim-stream.ts";

export interface AckLatencyArgs {
  kind: "xsmq" | "mqttjs";
  qos: 1 | 2;
  /** Messages per second. */
  rate: number;
  /** Messages measured, after `warm` unmeasured ones. */
  count: number;
  warm: number;
  port: number;
  clientId: string;
  /** The src/ folder whose client runs (default: this checkout's). */
  src?: string;
  /** The simulated board's TCP timing: "lwip" (default: Nagle, delayed ACKs, the broker's Nagle modelled) or
   *  "host" (segments leave and are acknowledged at once, as between two Linux sockets on loopback). */
  stack?: "lwip" | "host";
  /** Whether the simulator models the broker's Nagle (default true: mosquitto's default; false for a broker with
   *  set_tcp_nodelay true). */
  peerNagle?: boolean;
  /** MQTT.js on a simulated board (the simulator's socket, Nagle on as MQTT.js leaves it) instead of node:net. */
  board?: boolean;
}

export interface AckLatency { acknowledged: number; sent: number; p50: number; p99: number; max: number }

/** A publisher under test: `publish()` sends one 16-byte message; `took` gets each one's ack time, in ms. */
interface Publisher { publish(): void; readonly took: number[]; close(): void }

const TOPIC = "bench/ack";
const PAYLOAD = constantPayload(16);

async function ours(a: AckLatencyArgs): Promise<Publisher> {
  const src = resolve(a.src ?? fileURLToPath(new URL("../../src", import.meta.url)));
  const { MQTTClient } = await import(pathToFileURL(`${src}/mqtt/client.ts`).href);
  const { TcpTransport } = await import(pathToFileURL(`${src}/net/tcp-transport.ts`).href);
  const device = boardFor(a);
  const client = device.run(() => new MQTTClient({
    host: "127.0.0.1", port: a.port, clientId: a.clientId, keepalive: 60, reconnect: false, transport: new TcpTransport(256), inflight: 64,
  }));
  client.onError = (e: Error) => { throw e; };
  await new Promise<void>((ok, fail) => {
    client.onConnect = () => ok();
    client.onClose = (e: Error | undefined) => fail(e ?? new Error("closed before CONNACK"));
  });
  const sentAt = new Map<number, number>();
  const took: number[] = [];
  client.onDelivered = (id: number) => {
    const t = sentAt.get(id);
    if (t !== undefined) { took.push(performance.now() - t); sentAt.delete(id); }
  };
  return {
    took,
    publish() {
      const t = performance.now();
      const id = device.run(() => client.publish(TOPIC, PAYLOAD, a.qos)) as number;
      if (id <= 0) throw new Error("publish refused");
      sentAt.set(id, t);
    },
    close: () => device.run(() => client.close()),
  };
}

/** A simulated board with the TCP timing `a` asks for. */
function boardFor(a: AckLatencyArgs): Device {
  const device = new Device({ id: a.clientId, trace: () => {} });
  if (a.stack === "host") Object.assign(device.network, { ackTimerMs: 0, peerAckDelayMs: 0, peerNagle: false });
  if (a.peerNagle === false) device.network.peerNagle = false;
  return device;
}

async function theirs(a: AckLatencyArgs): Promise<Publisher> {
  const options = { clientId: a.clientId, keepalive: 60, reconnectPeriod: 0 };
  const device = a.board ? boardFor(a) : undefined;
  const client = device
    ? new mqtt.MqttClient(() => new SimulatedSocketStream(device, "127.0.0.1", a.port, false), options)
    : mqtt.connect(`mqtt://127.0.0.1:${a.port}`, options);
  await new Promise<void>((ok, fail) => { client.once("connect", () => ok()); client.once("error", fail); });
  const payload = Buffer.from(PAYLOAD);
  const took: number[] = [];
  const publishOptions = { qos: a.qos };
  return {
    took,
    publish() {
      const t = performance.now();
      client.publish(TOPIC, payload, publishOptions, (err) => { if (!err) took.push(performance.now() - t); });
    },
    close: () => { client.end(true); },
  };
}

export async function ackLatency(a: AckLatencyArgs): Promise<AckLatency> {
  const pub = a.kind === "xsmq" ? await ours(a) : await theirs(a);
  const total = a.warm + a.count;
  await new Promise<void>((done) => {
    let sent = 0;
    const timer = setInterval(() => {
      pub.publish();
      if (++sent < total) return;
      clearInterval(timer);
      const deadline = performance.now() + 5000;
      const wait = setInterval(() => {
        if (pub.took.length < total && performance.now() < deadline) return;
        clearInterval(wait);
        done();
      }, 10);
    }, 1000 / a.rate);
  });
  pub.close();
  const measured = pub.took.slice(a.warm).sort((x, y) => x - y);
  return { acknowledged: measured.length, sent: a.count, p50: percentile(measured, 50), p99: percentile(measured, 99), max: measured[measured.length - 1] ?? NaN };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  try {
    const result = await ackLatency(JSON.parse(process.argv[2] ?? "{}") as AckLatencyArgs);
    process.stdout.write(JSON.stringify(result) + "\n");
    process.exit(0);
  } catch (e) {
    console.error((e as Error).stack ?? e);
    process.exit(1);
  }
}
