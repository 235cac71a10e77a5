// Runs bench/support/child.ts (or another bench script) in a fresh Node process and returns the JSON it prints
// last; for alloc-receive it also feeds the child's subscription from this process (MQTT.js) until the child is done.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { MqttjsPeer } from "./peers.ts";
import type { CaseArgs } from "./child.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

export async function runChild<T>(mode: string, args: CaseArgs, nodeFlags: string[] = [], timeoutMs = 60000): Promise<T> {
  let feeder: MqttjsPeer | undefined;
  let feeding = false;
  try {
    return await runScript<T>("bench/support/child.ts", [mode, JSON.stringify(args)], { nodeFlags, timeoutMs }, (out) => {
      if (mode === "alloc-receive" && !feeding && out.includes("ready\n")) {
        feeding = true;
        feeder = new MqttjsPeer({ port: args.port, clientId: `${args.tag}-feed`, payloadSize: args.size });
        void feed(feeder, args, () => feeding);
      }
    });
  } finally {
    feeding = false;
    await feeder?.close();
  }
}

/** Runs a TypeScript file of this repo (path from the root) in a fresh Node process with the simulator's modules;
 *  returns the JSON it prints as its last stdout line. `onStdout` sees the output so far as it grows. */
export async function runScript<T>(script: string, argv: string[], o: { nodeFlags?: string[]; timeoutMs?: number } = {}, onStdout?: (out: string) => void): Promise<T> {
  const child = spawn(process.execPath, [...(o.nodeFlags ?? []), join(root, "bin/run-ts.js"), join(root, script), ...argv],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stderr.on("data", (d) => { err += d; });
  child.stdout.on("data", (d) => { out += d; onStdout?.(out); });
  const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 60000);
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`bench child ${script} ${argv.join(" ")} exited ${code}:\n${err}`);
  const lines = out.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as T;
}

/** Messages per 10 ms fed to the child: below what one subscriber takes, so mosquitto's queue never fills
 *  (a full QoS 2 queue stalls delivery in mosquitto 2.0, for MQTT.js subscribers too). */
const FEED_PER_10MS = [300, 100, 50];

/** Publishes to the child's topic at a steady rate until told to stop. */
async function feed(peer: MqttjsPeer, a: CaseArgs, running: () => boolean): Promise<void> {
  await peer.connected();
  const topic = `bench/${a.tag}`;
  while (running()) {
    for (let i = 0; i < FEED_PER_10MS[a.qos] && peer.canPublish(); i++) peer.publish(topic, a.qos);
    await new Promise((r) => setTimeout(r, 10));
  }
}
