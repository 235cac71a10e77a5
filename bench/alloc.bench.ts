// V8 heap bytes allocated per message in steady state, each case in its own child process
// (--expose-gc, 64 MB semi-spaces): src/ alone over an in-memory loopback (must be 0), then the whole
// simulator path through a real mosquitto (includes the host socket module and node:net), and MQTT.js.
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import type { Figures } from "./index.ts";
import { runChild } from "./support/spawn.ts";
import { ALLOC_FLAGS } from "./support/heap.ts";
import type { Qos } from "./support/peers.ts";

interface PerMessage { value: number; valid: number; samples: number[]; baseline: number }

const METHOD = "heap used after gc() and after N messages, no GC in between (PerformanceObserver 'gc'), median of GC-free windows less an empty window";

export default async function allocBench(): Promise<Figures> {
  const figures: Figures = {};
  for (const qos of [0, 1, 2] as Qos[]) {
    const n = 20000;
    const r = await runChild<Record<string, PerMessage>>("alloc-src", { kind: "xsmq", qos, size: 16, port: 0, tag: "loop", count: n, warm: 0, windows: 5 }, ALLOC_FLAGS);
    const note = (p: PerMessage, what: string) => `${what}; ${p.valid} windows of ${n} x 16 B, ${METHOD}`;
    figures[`node.bytes_per_msg.src.publish_qos${qos}`] = { value: b(r["client.publish"]), unit: "B/msg", note: note(r["client.publish"], "MQTTClient+Session+codec over an in-memory Transport, virtual clock") };
    figures[`node.bytes_per_msg.src.receive_qos${qos}`] = { value: b(r["client.receive"]), unit: "B/msg", note: note(r["client.receive"], "MQTTClient+Session+codec over an in-memory Transport, virtual clock, subscription handler") };
    figures[`node.bytes_per_msg.src_session.publish_qos${qos}`] = { value: b(r["session.publish"]), unit: "B/msg" };
    figures[`node.bytes_per_msg.src_session.receive_qos${qos}`] = { value: b(r["session.receive"]), unit: "B/msg" };
  }

  const broker = await Mosquitto.start();
  try {
    const n = 5000, warm = 10000;
    const where = "simulator Device + host socket module + node:net + real clock, through mosquitto";
    for (const qos of [0, 1, 2] as Qos[]) {
      const p = await runChild<PerMessage>("alloc-publish", { kind: "xsmq", qos, size: 16, port: broker.port, tag: `ap${qos}`, count: n, warm, windows: 5 }, ALLOC_FLAGS);
      figures[`node.bytes_per_msg.publish_qos${qos}`] = { value: b(p), unit: "B/msg", note: `${where}; ${p.valid} windows of ${n}; ${METHOD}` };
      const r = await runChild<PerMessage>("alloc-receive", { kind: "xsmq", qos, size: 16, port: broker.port, tag: `ar${qos}`, count: n, warm, windows: 5 }, ALLOC_FLAGS);
      figures[`node.bytes_per_msg.receive_qos${qos}`] = { value: b(r), unit: "B/msg", note: `${where}; MQTT.js publishes from another process; ${r.valid} windows of ${n}` };
      const tp = await runChild<PerMessage>("alloc-publish", { kind: "xsmq", transport: "tcp", qos, size: 16, port: broker.port, tag: `tp${qos}`, count: n, warm, windows: 5 }, ALLOC_FLAGS);
      figures[`node.bytes_per_msg.tcp.publish_qos${qos}`] = { value: b(tp), unit: "B/msg", note: `same, on the ECMA-419 TCP transport and host module; ${tp.valid} windows of ${n}` };
      const tr = await runChild<PerMessage>("alloc-receive", { kind: "xsmq", transport: "tcp", qos, size: 16, port: broker.port, tag: `tr${qos}`, count: n, warm, windows: 5 }, ALLOC_FLAGS);
      figures[`node.bytes_per_msg.tcp.receive_qos${qos}`] = { value: b(tr), unit: "B/msg", note: `same, on the ECMA-419 TCP transport; ${tr.valid} windows of ${n}` };
    }
    const m = await runChild<PerMessage>("alloc-publish", { kind: "mqttjs", qos: 0, size: 16, port: broker.port, tag: "mp0", count: n, warm, windows: 5 }, ALLOC_FLAGS);
    figures["node.bytes_per_msg.mqttjs_publish_qos0"] = { value: b(m), unit: "B/msg", note: `MQTT.js 5 on node:net, same payload Buffer reused, same method; ${m.valid} windows of ${n}` };
    const mr = await runChild<PerMessage>("alloc-receive", { kind: "mqttjs", qos: 0, size: 16, port: broker.port, tag: "mr0", count: n, warm, windows: 5 }, ALLOC_FLAGS);
    figures["node.bytes_per_msg.mqttjs_receive_qos0"] = { value: b(mr), unit: "B/msg", note: `MQTT.js 5 'message' event; ${mr.valid} windows of ${n}` };
  } finally {
    await broker.close();
  }
  return figures;
}

function b(p: PerMessage): number {
  return Math.round(p.value * 10) / 10;
}
