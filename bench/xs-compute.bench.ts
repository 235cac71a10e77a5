// src/ inside the real XS engine with no network: allocation per message counted as allocation (slots and chunk
// bytes allocated in GC-free windows) and XS instructions per message, over the in-memory transport (src/ alone,
// the transport's share apart) and over src/net's TCP (default), socket and WebSocket transports on in-memory fakes of the
// native modules (the fakes' share apart); and Moddable's own MQTT client (from $MODDABLE) in the same engine.
import {
  type MessageBench, type MessageCase, type MessageFigures, type V5Case, benchContentType, memorySetup5, startMemoryBench,
} from "../sim/xs/memory-bench.ts";
import type { TransportKind } from "../sim/xs/entries/memory.ts";
import { startModdableBench } from "../sim/xs/moddable-bench.ts";
import type { Figures } from "./index.ts";

const messages = Number(process.env.XS_BENCH_MESSAGES ?? 10_000);
/** Heap slots free for one window (enough for 400 slots per message). */
const heapSlots = Math.max(1 << 20, messages * 400);
const sizes = [16, 256];

/** Figure-name prefix and wording per transport. */
const transports: { kind: TransportKind; prefix: string; what: string; apart: string }[] = [
  { kind: "memory", prefix: "", what: "src/ alone", apart: "in-memory transport" },
  { kind: "tcp", prefix: "tcp.", what: "src/ with TcpTransport (default)", apart: "fake embedded:io/socket/tcp" },
  { kind: "socket", prefix: "socket.", what: "src/ with SocketTransport", apart: "fake socket" },
  { kind: "ws", prefix: "ws.", what: "src/ with WebSocketTransport over TcpTransport", apart: "fake embedded:io/socket/tcp" },
];

export default async function xsComputeBench(): Promise<Figures> {
  const figures: Figures = {};
  const mine = new Map<string, MessageFigures>();
  for (const t of transports) {
    const ours = await startMemoryBench(heapSlots, t.kind);
    try {
      for (const kind of ["publish", "receive"] as const) {
        for (const qos of [0, 1, 2] as const) {
          const bySize: MessageFigures[] = [];
          for (const size of sizes) {
            const r = await measured(ours, { kind, qos, size }, t.kind);
            if (t.kind === "memory") mine.set(`${kind}.${qos}.${size}`, r);
            bySize.push(r);
            figures[`xs.compute_per_msg.${t.prefix}${kind}_qos${qos}.${size}B`] = {
              value: Math.round(r.compute), unit: "instructions/msg",
              note: `${t.what}; ${t.apart} ${Math.round(r.transport)} apart (total ${Math.round(r.total)}); ${describe(r)}`,
            };
          }
          figures[`xs.alloc_slots_per_msg.${t.prefix}${kind}_qos${qos}`] = {
            value: clean(Math.max(...bySize.map((r) => r.slots))), unit: "slots/msg",
            note: `${t.what}, allocated (not kept) in GC-free windows; ${sizes.map((s, i) => `${s} B: ${fmt(bySize[i].slots)}`).join(", ")}; ` +
              `${t.apart} alone ${fmt(Math.max(...bySize.map((r) => r.transportSlots)))}; ${describe(bySize[0])}; goal 0`,
          };
          figures[`xs.alloc_chunk_bytes_per_msg.${t.prefix}${kind}_qos${qos}`] = {
            value: clean(Math.max(...bySize.map((r) => r.chunkBytes))), unit: "bytes/msg",
            note: `${t.what}, chunk bytes allocated (64-bit XS: 16-byte chunk headers); ${sizes.map((s, i) => `${s} B: ${fmt(bySize[i].chunkBytes)}`).join(", ")}; goal 0`,
          };
        }
      }
    } finally {
      await ours.close();
    }
  }

  const theirs = new Map<string, number>();
  const peer = await startModdableBench(heapSlots);
  if ("skipped" in peer) process.stderr.write(`  xs-compute: Moddable's client skipped: ${peer.skipped}\n`);
  else try {
    for (const kind of ["publish", "receive"] as const) {
      for (const size of sizes) {
        const r = await measured(peer, { kind, qos: 0, size }, "Moddable");
        const key = `${kind}_qos0.${size}B`;
        theirs.set(key, r.compute);
        figures[`xs.moddable.compute_per_msg.${key}`] = {
          value: Math.round(r.compute), unit: "instructions/msg",
          note: `Moddable mqtt.js alone; fake socket/timer ${Math.round(r.transport)} apart (total ${Math.round(r.total)}); ${describe(r)}`,
        };
        figures[`xs.moddable.alloc_slots_per_msg.${key}`] = {
          value: clean(r.slots), unit: "slots/msg",
          note: `Moddable mqtt.js, fakes included (${fmt(r.transportSlots)} slots, ${fmt(r.transportChunkBytes)} chunk B theirs); chunk bytes ${fmt(r.chunkBytes)}/msg`,
        };
        const ours = mine.get(`${kind}.0.${size}`)!;
        figures[`xs.compute_ratio_vs_moddable.${key}`] = {
          value: ours.compute / r.compute, unit: "ratio",
          note: `xsmq ${Math.round(ours.compute)} / Moddable ${Math.round(r.compute)} instructions per message, each client alone; goal <= 1`,
        };
      }
    }
  } finally {
    await peer.close();
  }
  if (process.env.XS_COMPUTE !== "3.1.1") await v5Rows(figures, mine, theirs);
  return figures;
}

/**
 * MQTT 5.0 (issue 16), src/ alone on the in-memory transport, beside the 3.1.1 rows: with no properties, with a
 * property block (publish: a Properties made once; receive: content type, user properties, subscription identifier,
 * expiry), and with topic aliases (publish QoS 0 by outgoing alias, CONNACK Topic Alias Maximum 10; receive by an
 * incoming alias the broker named once). Moddable's client has no 5.0: its ratio compares with its 3.1.1 figure.
 */
const v5Variants: { prefix: string; what: string; v: V5Case; qos: readonly (0 | 1 | 2)[]; kinds?: readonly ("publish" | "receive")[] }[] = [
  { prefix: "v5.", what: "MQTT 5.0, no properties", v: {}, qos: [0, 1, 2] },
  {
    prefix: "v5_props.", what: "MQTT 5.0 with properties (publish: a Properties made once with contentType, messageExpiryInterval, 2 user properties, 44 bytes; receive: content type, 2 user properties, subscription identifier, expiry)",
    v: {
      properties: { contentType: benchContentType, messageExpiryInterval: 3600, userProperties: { unit: "C", site: "a" } },
      incoming: { contentType: benchContentType, userProperties: { unit: "C", site: "a" }, subscriptionIdentifier: 7, messageExpiryInterval: 60 }, subscriptionIdentifier: 7,
    },
    qos: [0, 1, 2],
  },
  {
    // payloadFormatIndicator: the client checks the payload is UTF-8 before sending (a per-byte cost).
    prefix: "v5_utf8.", what: "MQTT 5.0 publish with a Properties made once with payloadFormatIndicator true (payload checked as UTF-8 per publish) and contentType",
    v: { properties: { contentType: benchContentType, payloadFormatIndicator: true } }, qos: [0], kinds: ["publish"],
  },
  { prefix: "v5_alias.", what: "MQTT 5.0 by topic alias (publish QoS 0: alias alone; receive: alias alone, named once)", v: { brokerAliases: 10, incomingAlias: 1 }, qos: [0] },
];

async function v5Rows(figures: Figures, mine: Map<string, MessageFigures>, theirs: Map<string, number>): Promise<void> {
  for (const variant of v5Variants) {
    const bench = await startMemoryBench(heapSlots, "memory", memorySetup5(variant.v));
    try {
      for (const kind of variant.kinds ?? (["publish", "receive"] as const)) {
        for (const qos of variant.qos) {
          const bySize: MessageFigures[] = [];
          for (const size of sizes) {
            const r = await measured(bench, { kind, qos, size }, variant.prefix);
            bySize.push(r);
            const key = `${kind}_qos${qos}.${size}B`, v311 = mine.get(`${kind}.${qos}.${size}`);
            figures[`xs.compute_per_msg.${variant.prefix}${key}`] = {
              value: Math.round(r.compute), unit: "instructions/msg",
              note: `${variant.what}; src/ alone; in-memory transport ${Math.round(r.transport)} apart (total ${Math.round(r.total)}); ${describe(r)}`,
            };
            if (v311) {
              figures[`xs.compute_ratio_vs_311.${variant.prefix}${key}`] = {
                value: round3(r.compute / v311.compute), unit: "ratio",
                note: `MQTT 5.0 ${Math.round(r.compute)} / 3.1.1 ${Math.round(v311.compute)} instructions per message, src/ alone, same run`,
              };
            }
            const moddable = theirs.get(key);
            if (moddable !== undefined) {
              figures[`xs.compute_ratio_vs_moddable.${variant.prefix}${key}`] = {
                value: round3(r.compute / moddable), unit: "ratio",
                note: `xsmq MQTT 5.0 ${Math.round(r.compute)} / Moddable ${Math.round(moddable)} instructions per message; Moddable's client has no MQTT 5.0, so this is its 3.1.1 figure on the same payload`,
              };
            }
          }
          figures[`xs.alloc_slots_per_msg.${variant.prefix}${kind}_qos${qos}`] = {
            value: clean(Math.max(...bySize.map((r) => r.slots))), unit: "slots/msg",
            note: `${variant.what}, allocated (not kept) in GC-free windows; ${sizes.map((s, i) => `${s} B: ${fmt(bySize[i].slots)}`).join(", ")}; chunk bytes ${sizes.map((s, i) => `${s} B: ${fmt(bySize[i].chunkBytes)}`).join(", ")}; goal 0`,
          };
        }
      }
    } finally {
      await bench.close();
    }
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

async function measured(bench: MessageBench, c: MessageCase, what: string): Promise<MessageFigures> {
  const t = performance.now();
  const r = await bench.measure(c, messages, 200);
  process.stderr.write(`  xs-compute: ${what} ${c.kind} QoS ${c.qos} ${c.size} B in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  return r;
}

function describe(r: MessageFigures): string {
  return `${r.n} messages per window, ${r.gcs} GCs in the windows`;
}

/** Rounded to 0.01: window-to-window constants leave +-0.00x, not a per-message cost. */
function clean(v: number): number {
  const r = Math.round(v * 100) / 100;
  return r === 0 ? 0 : r;
}

function fmt(v: number): string {
  return String(clean(v));
}
