// Moddable's own MQTT client as the peer inside the same XS engine: modules/network/mqtt/mqtt.js is read from the
// SDK that $MODDABLE names, at run time, bundled with esbuild over the fakes of sim/xs/entries/moddable-peer.ts.
// Nothing from the SDK is stored in this repository.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { MessageBench, benchSizes, benchTopic, packetBytes, publishBytes } from "./memory-bench.ts";
import type { PeerSetup } from "./entries/moddable-peer.ts";

/** mqtt.js of the SDK at $MODDABLE, or why it is not there. */
export function moddableClientSource(): { source: string; path: string } | { skipped: string } {
  const root = process.env.MODDABLE;
  if (!root) return { skipped: "$MODDABLE not set" };
  const path = join(root, "modules/network/mqtt/mqtt.js");
  if (!existsSync(path)) return { skipped: `${path} not found ($MODDABLE does not name a Moddable SDK)` };
  return { source: readFileSync(path, "utf8"), path };
}

/** A script that defines globalThis.__makeModdableMQTT(fakes), which evaluates mqtt.js over `fakes` and returns its Client. */
export async function wrapModdableClient(source: string): Promise<string> {
  const fakes: Record<string, string> = {
    socket: "export const Socket = __fakes.Socket; export default { Socket: __fakes.Socket };",
    timer: "export default __fakes.Timer;",
    time: "export default __fakes.Time;",
    websocket: 'export class Client { constructor() { throw new Error("websocket is not faked"); } }',
  };
  const result = await build({
    stdin: { contents: source, sourcefile: "mqtt.js", loader: "js" },
    bundle: true, write: false, format: "iife", globalName: "__ModdableMQTT", platform: "neutral", target: "es2022", logLevel: "silent",
    plugins: [{
      name: "moddable-fakes",
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => args.path in fakes ? { path: args.path, namespace: "fake" } : { errors: [{ text: `mqtt.js imports "${args.path}", which has no fake` }] });
        b.onLoad({ filter: /.*/, namespace: "fake" }, (args) => ({ contents: fakes[args.path], loader: "js" }));
      },
    }],
  });
  return `globalThis.__makeModdableMQTT = function (__fakes) {\n${result.outputFiles[0].text}\nreturn __ModdableMQTT.default;\n};`;
}

export function peerSetup(): PeerSetup {
  return {
    connack: packetBytes({ cmd: "connack", returnCode: 0, sessionPresent: false }),
    suback: packetBytes({ cmd: "suback", messageId: 1, granted: [0] }),
    publishes: benchSizes.map((n) => publishBytes(benchTopic, n, 0)),
    topic: benchTopic,
    sizes: benchSizes,
  };
}

/** Moddable's client in XS, connected and subscribed to `benchTopic`; undefined (with the reason) without an SDK. */
export async function startModdableBench(heapSlots: number): Promise<MessageBench | { skipped: string }> {
  const found = moddableClientSource();
  if ("skipped" in found) return found;
  const script = await wrapModdableClient(found.source);
  return MessageBench.start("sim/xs/entries/moddable-peer.ts", peerSetup(), heapSlots, async (xs) => { await xs.evaluate(script); });
}
