// The client against a 2-node RabbitMQ cluster on this machine: a subscriber on one node and a publisher on the
// other lose nothing; retained messages stay on the node they were published to; and a publisher with both
// nodes in its broker list loses no QoS 1 reading when its node dies mid-stream.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MQTTClient, ErrorCode, type MQTTError, type MQTTClientOptions } from "../src/mqtt/client";
import { RabbitMQ, type RabbitNode } from "../sim/brokers/rabbitmq.ts";
import { until, sleep } from "./support/wait.ts";

let cluster: RabbitMQ;
const cleanup: Array<() => unknown> = [];
beforeAll(async () => { cluster = await RabbitMQ.start({ nodes: 2 }); }, 120_000);
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });
afterAll(async () => { await cluster?.close(); });

function client(node: RabbitNode | RabbitNode[], id: string, extra: Partial<MQTTClientOptions> = {}): MQTTClient & { errors: MQTTError[] } {
  const nodes = Array.isArray(node) ? node : [node];
  const c = new MQTTClient({ brokers: nodes.map((n) => ({ host: "127.0.0.1", port: n.port })), clientId: id, username: "maker", password: "s3cret",
    keepalive: 30, rxBuffer: 1024, txBuffer: 1024, inflight: 8, queue: 32768, reconnect: { min: 50, max: 500 }, ...extra });
  const errors: MQTTError[] = [];
  c.onError = (e) => errors.push(e);
  cleanup.push(() => c.close());
  return Object.assign(c, { errors });
}

async function subscribed(c: MQTTClient, filter: string, qos: 0 | 1, handler: Parameters<MQTTClient["subscribe"]>[2]): Promise<void> {
  let done = false;
  c.onSubscribe = (f) => { if (f === filter) done = true; };
  c.subscribe(filter, qos, handler);
  await until(`SUBACK for ${filter}`, () => done, 10_000);
}

describe("RabbitMQ cluster of 2 nodes", () => {
  it("subscriber on node 2, publisher on node 1: 1000 QoS 1 and 1000 QoS 0 messages, none lost, in order", async () => {
    const [a, b] = cluster.nodes;
    const sub = client(b, "x-sub"), pub = client(a, "x-pub");
    const got: Record<string, number[]> = { q0: [], q1: [] };
    await subscribed(sub, "x/+", 1, (m) => got[m.topicIs("x/q0") ? "q0" : "q1"].push(m.number));
    let acked = 0;
    pub.onDelivered = () => acked++;
    await until("publisher connected", () => pub.connected, 10_000);
    for (let i = 0; i < 1000; i++) { pub.publish("x/q1", i, 1); pub.publish("x/q0", i, 0); }
    await until(`all 2000 (got ${got.q0.length} + ${got.q1.length})`, () => got.q0.length + got.q1.length === 2000, 30_000);
    const all = Array.from({ length: 1000 }, (_, i) => i);
    expect(got.q1).toEqual(all);
    expect(got.q0).toEqual(all);
    await until("1000 PUBACKs", () => acked === 1000, 10_000);
    expect([...pub.errors, ...sub.errors]).toEqual([]);
  });

  it("a retained message stays on the node it was published to", async () => {
    const [a, b] = cluster.nodes;
    const pub = client(a, "r-pub");
    let acked = 0;
    pub.onDelivered = () => acked++;
    pub.publish("r/setting", "42", { qos: 1, retain: true });
    await until("retained publish acknowledged", () => acked === 1, 10_000);
    const seen: Record<string, string[]> = { a: [], b: [] };
    const onA = client(a, "r-on-a"), onB = client(b, "r-on-b");
    await subscribed(onA, "r/setting", 1, (m) => seen.a.push(m.text));
    await subscribed(onB, "r/setting", 1, (m) => seen.b.push(m.text));
    await until("retained copy on node 1", () => seen.a.length === 1, 10_000);
    // A live message on the same topic reaches both: node 2 had nothing retained to send before it.
    pub.publish("r/setting", "live", 1);
    await until("the live message on both nodes", () => seen.a.length === 2 && seen.b.length === 1, 10_000);
    expect(seen).toEqual({ a: ["42", "live"], b: ["live"] });
  });

  it("publisher's node killed mid-stream: with both nodes in its broker list, no QoS 1 reading is lost", async () => {
    const [a, b] = cluster.nodes;
    const counts = new Map<number, number>();
    const sub = client(b, "f-sub", { cleanSession: false });
    await subscribed(sub, "f/readings", 1, (m) => { const n = m.number; counts.set(n, (counts.get(n) ?? 0) + 1); });
    const pub = client([a, b], "f-pub");
    const hosts: number[] = [];
    let lost: MQTTError | undefined;
    pub.onConnect = () => hosts.push(pub.port);
    pub.onClose = (e) => { lost ??= e; };
    await until("publisher connected to node 1", () => pub.connected, 10_000);
    const total = 600;
    let sent = 0, inFlightAtKill = -1;
    while (sent < total) {
      for (let k = 0; k < 20 && sent < total; k++) pub.publish("f/readings", sent++, 1);
      if (sent === total / 2) {
        // Right after a burst: 8 readings sent and unacknowledged, 12 queued behind them.
        inFlightAtKill = pub.session.inflight.count;
        await a.kill();
      }
      await sleep(5);
    }
    await until(`all ${total} readings (got ${counts.size})`, () => counts.size === total, 30_000)
      .catch((e) => { throw new Error(`${e.message}; publisher ${pub.state} on ${pub.port}, in flight ${pub.session.inflight.count}, errors ${pub.errors.map((x) => x.message).join(" | ")}`); });
    await until("publisher drained", () => pub.session.inflight.count === 0 && pub.session.outbox.count === 0, 10_000);
    expect(inFlightAtKill).toBe(8);
    expect(lost?.code).toBe(ErrorCode.ConnectionLost);
    expect(hosts).toEqual([a.port, b.port]);
    for (let i = 0; i < total; i++) expect(counts.get(i), `reading ${i}`).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
