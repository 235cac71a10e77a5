// The package as a user gets it: `npm pack`, the tarball installed into an empty folder (npm's cache first, the
// registry for what is missing), `npx xsmq init` there, `npm install`, then `npx xsmq sim --duration 5 --json` on
// the new project and its own `npm test`; with $MODDABLE (an SDK with its lin tools), `npx xsmq build --platform lin`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findMcconfig, findSdk } from "../tools/moddable.ts";

const repoRoot = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const version = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version as string;
const work = mkdtempSync(join(tmpdir(), "xsmq-package-"));
const project = join(work, "my-sensor");
const tarball = join(work, `xsmq-${version}.tgz`);

/** The environment of a user's shell: no npm script variables from our own `npm test`, no xsmq settings. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|INIT_CWD$|AIO_|WIFI_|XSMQ_|MODDABLE$)/.test(k)) env[k] = v;
  return { ...env, NO_COLOR: "1", ...extra };
}

interface Run { code: number; stdout: string; stderr: string }

function run(command: string, args: string[], cwd: string, timeoutMs: number, env = userEnv()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr + (error && code === 1 && !stderr ? String(error) : "") });
    });
  });
}

const npm = (args: string[], cwd: string, timeoutMs = 240_000) =>
  run("npm", [...args, "--prefer-offline", "--no-audit", "--no-fund"], cwd, timeoutMs);

beforeAll(async () => {
  const pack = await run("npm", ["pack", "--pack-destination", work, "--json"], repoRoot, 120_000);
  expect(pack.code, pack.stderr).toBe(0);
  mkdirSync(project);
  const install = await npm(["install", tarball], project);
  expect(install.code, install.stderr).toBe(0);
}, 360_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the packed xsmq, installed into an empty folder", () => {
  it("carries what users need and nothing of the repository's tests, benches or CI", async () => {
    const list = await run("tar", ["-tzf", tarball], work, 30_000);
    const files = list.stdout.trim().split("\n").map((f) => f.replace(/^package\//, ""));
    for (const f of ["bin/xsmq.js", "tools/cli.ts", "tools/lin-host.c", "src/mqtt/manifest.json", "src/mqtt/client.ts", "types/timer.d.ts",
      "hosts/manifest.json", "sim/index.ts", "sim/vitest-plugin.mjs", "templates/adafruit-io/src/main.ts", "tsconfig.app.json", "README.md"]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(test|bench|\.ci|hosts\/xs|sim\/xs)\//.test(f))).toEqual([]);
  });

  it("runs its bin, and Node code imports the simulator API", async () => {
    const v = await run("npx", ["xsmq", "--version"], project, 60_000);
    expect(v.stdout.trim()).toBe(version);
    const api = await run(process.execPath, ["--import", "xsmq/register", "--input-type=module", "-e",
      'const m = await import("xsmq/sim"); console.log(typeof m.startSimulation, typeof m.startAioBroker)'], project, 60_000);
    expect(api.stdout.trim(), api.stderr).toBe("function function");
  });

  it("`npx xsmq init` makes a project there; after `npm install`, sim runs its app and its own npm test passes", async () => {
    const init = await run("npx", ["xsmq", "init"], project, 60_000);
    expect(init.code, init.stderr).toBe(0);
    const install = await npm(["install"], project);
    expect(install.code, install.stderr).toBe(0);

    const sim = await run("npx", ["xsmq", "sim", "--duration", "5", "--json"], project, 60_000);
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stderr).toContain("running src/main.ts");
    const summary = JSON.parse(sim.stdout);
    expect(summary.published).toBeGreaterThan(0);
    expect(summary.received).toBeGreaterThan(0);
    expect(summary.errors).toBe(0);

    const test = await run("npm", ["test"], project, 180_000);
    expect(test.code, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/Tests +2 passed/);
  }, 360_000);

  const sdk = findSdk();
  const mcconfig = sdk.ok ? findMcconfig(sdk.path) : undefined;
  const skip = !sdk.ok ? "$MODDABLE is not set" : !mcconfig?.ok ? `no mcconfig in ${sdk.path}` : "";
  it.skipIf(skip)(`\`npx xsmq build --platform lin\` builds it with the Moddable SDK${skip ? ` (skipped: ${skip})` : ""}`, async () => {
    const build = await run("npx", ["xsmq", "build", "--platform", "lin"], project, 900_000, userEnv({ MODDABLE: sdk.ok ? sdk.path : "" }));
    expect(build.code, build.stdout.slice(-3000) + build.stderr.slice(-3000)).toBe(0);
    const so = join(project, "build", "moddable", "bin", "lin", "mc", "debug", "my-sensor", "mc.so");
    expect(build.stdout).toContain(`Built the lin app: ${so}`);
    expect(existsSync(so)).toBe(true);
  }, 900_000);
});
