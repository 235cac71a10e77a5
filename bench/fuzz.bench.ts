// The codec fuzz test at 10^6 inputs (npm test runs 10^5): test/codec-fuzz.test.ts under vitest with FUZZ_INPUTS,
// its own assertions deciding pass or fail. Figures: inputs survived, failures, inputs per second.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Figures } from "./index.ts";

const INPUTS = Number(process.env.FUZZ_INPUTS ?? 1_000_000);
const root = fileURLToPath(new URL("..", import.meta.url));

export default async function fuzz(): Promise<Figures> {
  const vitest = fileURLToPath(new URL("../node_modules/vitest/vitest.mjs", import.meta.url));
  const child = spawn(process.execPath, [vitest, "run", "test/codec-fuzz.test.ts"], {
    cwd: root, env: { ...process.env, FUZZ_INPUTS: String(INPUTS) }, stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const seed = /seed (\d+) \(replay/.exec(out)?.[1] ?? "?";
  const done = /codec fuzz: (\d+) inputs, (\d+) packets decoded in ([\d.]+) s/.exec(out);
  if (code !== 0 || !done) {
    const why = out.split("\n").filter((l) => /failures|Error|FAIL/.test(l)).slice(0, 5).join(" | ");
    return { "codec.fuzz.failed_runs": { value: 1, unit: "runs", note: `seed ${seed} (FUZZ_SEED=${seed} replays it): ${why || `vitest exited ${code}`}` } };
  }
  const [, inputs, packets, seconds] = done;
  return {
    "codec.fuzz.inputs": { value: Number(inputs), unit: "inputs", note: `random and mutated packets, 0 failures (vitest passed), ${packets} decoded; seed ${seed}` },
    "codec.fuzz.inputs_per_s": { value: Math.round(Number(inputs) / Number(seconds)), unit: "inputs/s", note: "reader + decode + mqtt-packet oracle, under vitest" },
    "codec.fuzz.failed_runs": { value: 0, unit: "runs" },
  };
}
