// The client on Moddable's own lin runtime (needs $MODDABLE with the lin tools built): its footprint and what it
// allocates per message, from the runtime's instrumentation with garbage collection off in each window
// (bench/fixtures/runtime-meter). The XS-engine figures of bench/xs*.bench.ts, side by side with the real runtime's.
// lin is a 64-bit build: a slot is 32 bytes there (16 on an ESP8266) and chunk sizes are 64-bit sizes.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { findMcconfig } from "../tools/moddable.ts";
import { tscShim } from "../tools/build.ts";
import { linHost } from "../tools/run.ts";
import type { Figures } from "./index.ts";

const fixture = fileURLToPath(new URL("./fixtures/runtime-meter/", import.meta.url));
const LIN_SLOT = 32;
const ESP8266_SLOT = 16;

interface Heap { slotBytes: number; chunkBytes: number }
interface Result { footprint: Heap; publish: Heap; receive: Heap; messages: number }

export default async function runtimeBench(): Promise<Figures> {
  const sdk = process.env.MODDABLE;
  const mcconfig = sdk ? findMcconfig(sdk) : undefined;
  if (!sdk || !mcconfig?.ok) {
    process.stderr.write(`  runtime: skipped: ${!sdk ? "$MODDABLE is not set" : "no mcconfig in $MODDABLE (build the lin tools)"}\n`);
    return {};
  }
  const out = mkdtempSync(join(tmpdir(), "xsmq-runtime-"));
  const broker = await Mosquitto.start();
  try {
    const env = { ...process.env, PATH: `${tscShim(out)}:${join(sdk, "build", "bin", "lin", "release")}:${process.env.PATH}` };
    const build = spawnSync(mcconfig.path, ["-d", "-m", "-p", "lin", "-t", "build", "-o", out, "broker=127.0.0.1", `port=${broker.port}`], { cwd: fixture, env, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`mcconfig failed:\n${build.stdout}\n${build.stderr}`);
    const so = join(out, "bin", "lin", "mc", "debug", "runtime-meter", "mc.so");
    const result = await runOnLin(linHost(sdk, out), so, broker);
    const perMessage = (h: Heap, n: number) => ({ slots: h.slotBytes / LIN_SLOT / n, chunkBytes: h.chunkBytes / n });
    const pub = perMessage(result.publish, result.messages), rec = perMessage(result.receive, result.messages);
    const fpSlots = result.footprint.slotBytes / LIN_SLOT;
    return {
      "runtime.alloc_slots_per_msg.publish_qos0": { value: pub.slots, unit: "slots/msg", note: `Moddable lin runtime, ${result.messages} QoS 0 publishes (Topic, 16 B) with garbage collection off (Debug.gc(false)), the batching timer's ticks included; chunk bytes ${pub.chunkBytes}/msg` },
      "runtime.alloc_slots_per_msg.receive_qos0": { value: rec.slots, unit: "slots/msg", note: `Moddable lin runtime, ${result.messages} QoS 0 messages received with garbage collection off (Debug.gc(false)); chunk bytes ${rec.chunkBytes}/msg` },
      "runtime.client_footprint_bytes": {
        value: fpSlots * ESP8266_SLOT + result.footprint.chunkBytes, unit: "bytes",
        note: `Moddable lin runtime after a GC: ${fpSlots} slots (x ${ESP8266_SLOT} B as on an ESP8266) + ${result.footprint.chunkBytes} B of chunks (64-bit sizes), ` +
          `connected, default buffers, 2 subscriptions, modules preloaded; includes the runtime's native socket and timer objects`,
      },
    };
  } finally {
    await broker.close();
    rmSync(out, { recursive: true, force: true });
  }
}

/** Runs the fixture on the lin loader; feeds it N messages when it says READY; returns its RESULT line. */
function runOnLin(loader: string, so: string, broker: Mosquitto): Promise<Result> {
  return new Promise((resolve, reject) => {
    const app = spawn(loader, [so], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "", done = false;
    const finish = (e: Error | undefined, r?: Result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      app.kill("SIGTERM");
      if (e) reject(e); else resolve(r!);
    };
    const timer = setTimeout(() => finish(new Error(`no RESULT from the lin runtime within 60 s:\n${text.slice(-2000)}`)), 60_000);
    app.stdout.setEncoding("utf8");
    app.stdout.on("data", (chunk: string) => {
      text += chunk;
      if (text.includes("READY\n") && !text.includes("SENT")) {
        text += "SENT";
        void (async () => {
          const peer = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
          for (let i = 0; i < 1000; i++) peer.publish("meter/rx", "x".repeat(16), { qos: 0 });
          await peer.endAsync();
        })().catch((e) => finish(e as Error));
      }
      const m = /RESULT (\{.*\})/.exec(text);
      if (m) finish(undefined, JSON.parse(m[1]) as Result);
      const err = /ERROR (.*)/.exec(text);
      if (err) finish(new Error(`the client reported: ${err[1]}`));
    });
    app.on("exit", (code) => finish(new Error(`the lin runtime exited (${code}) before its RESULT:\n${text.slice(-2000)}`)));
  });
}
