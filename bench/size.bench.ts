// Code size: the minified client bundle (codec + session + client + transport, XS modules left external; the
// minifier of `xsmq size`) beside MQTT.js's own minified browser bundle, measured in the same run.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { minify } from "../tools/size.ts";
import type { Figures } from "./index.ts";

export default async function sizeBench(): Promise<Figures> {
  const { code: ours, modules: files } = await minify({ entry: "src/mqtt/client.ts", bundle: true });
  const require = createRequire(import.meta.url);
  const mqttjs = readFileSync(join(dirname(require.resolve("mqtt/package.json")), "dist/mqtt.min.js"));
  const ratio = (mqttjs.length / ours.length).toFixed(1);
  return {
    "size.client_min_bytes": { value: ours.length, unit: "bytes", note: `esbuild --minify of src/mqtt/client.ts, ${files} modules; MQTT.js is ${ratio}x` },
    "size.client_min_gzip_bytes": { value: gzipSync(ours).length, unit: "bytes" },
    "size.mqttjs_min_bytes": { value: mqttjs.length, unit: "bytes", note: "mqtt/dist/mqtt.min.js (browser bundle)" },
    "size.mqttjs_min_gzip_bytes": { value: gzipSync(mqttjs).length, unit: "bytes" },
  };
}
