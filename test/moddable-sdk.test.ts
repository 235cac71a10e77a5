// The firmware on the real Moddable SDK: mcconfig builds the app for lin and `xsmq run` runs it on Moddable's
// own lin runtime against a mosquitto started here (readings, dashboard feeds, a broker restart, a broker down at
// start); mcconfig also generates the esp and esp32 builds (no Xtensa toolchain here) whose module lists must hold
// every module the app imports. Runs when $MODDABLE names an SDK with its tools built; skipped otherwise.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, posix } from "node:path";
import { createInterface } from "node:readline";
import mqtt, { type MqttClient } from "mqtt";
import { importsOf } from "./support/imports.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { until, sleep } from "./support/wait.ts";
import { xsmqBin } from "./support/fake-esp/run-cli.ts";
import { findMcconfig, hostToolsDir } from "../tools/moddable.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const sdk = process.env.MODDABLE;
const mcconfig = sdk ? findMcconfig(sdk, { PATH: "" }) : undefined;
const skipReason = !sdk ? "$MODDABLE is not set" : !mcconfig?.ok ? `no mcconfig built in ${sdk} (cd $MODDABLE/build/makefiles/lin && make)` : "";
// The default reporter does not name skipped tests: say it once, on one line.
if (skipReason) console.log(`test/moddable-sdk.test.ts skipped: ${skipReason} (set it to a Moddable SDK with its tools built to run it)`);
// Kept between runs (outside the repo): the first lin build compiles the XS engine, about a minute.
const buildRoot = join(tmpdir(), "xsmq-moddable-sdk-test");

/** Module names (as mcconfig names them: "mqtt/client", "embedded:io/socket/tcp") that src/app/main imports, transitively. */
function appImports(): Set<string> {
  const found = new Set<string>();
  const visit = (name: string) => {
    if (found.has(name)) return;
    found.add(name);
    const file = join(root, "src", name + ".ts");
    if (!existsSync(file)) return; // an SDK module
    for (const spec of importsOf(readFileSync(file, "utf8"))) visit(spec.startsWith(".") ? posix.normalize(posix.join(posix.dirname(name), spec)) : spec);
  };
  visit("app/main");
  return found;
}

/** The modules and preloads of a build, read from the makefile mcconfig generated. */
function makefileModules(makefile: string): { modules: Set<string>; preloads: Set<string> } {
  const text = readFileSync(makefile, "utf8");
  const name = (xsb: string) => xsb.replace(/\.xsb$/, "").replace(/^~\.([^/]+)\//, "$1:");
  const modules = new Set([...text.matchAll(/^\t\$\(MODULES_DIR\)\/(\S+\.xsb)\\?$/gm)].map((m) => name(m[1])));
  const preloads = new Set([...text.matchAll(/^\t-p (\S+\.xsb)\\?$/gm)].map((m) => name(m[1])));
  return { modules, preloads };
}

/** Device modules of src/ that must be preloaded: all but app/main, which runs at boot. */
function srcModules(): string[] {
  return [...appImports()].filter((n) => existsSync(join(root, "src", n + ".ts")) && n !== "app/main");
}

describe.skipIf(skipReason !== "")(`the app on the Moddable SDK${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  const mcconfigEnv = () => ({ ...process.env, PATH: `${hostToolsDir(sdk!)}:${process.env.PATH}` });

  for (const platform of ["esp", "esp32"]) {
    it(`mcconfig -p ${platform} (files only, no -m): every module the app imports is in the build, src/ preloaded, and it type-checks`, () => {
      const out = mkdtempSync(join(tmpdir(), `xsmq-${platform}-`));
      try {
        // Without -m mcconfig writes the makefile and module lists and runs no toolchain; ESP_BASE only has to name a folder.
        const extra = platform === "esp" ? { ESP_BASE: out } : {};
        const r = spawnSync(mcconfig!.ok ? mcconfig!.path : "", ["-p", platform, "-d", "-o", out], { cwd: root, encoding: "utf8", env: { ...mcconfigEnv(), ...extra } });
        expect(r.status, r.stdout + r.stderr).toBe(0);
        const { modules, preloads } = makefileModules(join(out, "tmp", platform, "debug", basename(root), "makefile"));
        const missing = [...appImports()].filter((m) => !modules.has(m));
        expect(missing, `${platform}: imported but not built`).toEqual([]);
        expect(modules).toContain("wifi"); // the legacy module: not in manifest_net on ESPs since SDK 8.2.0
        expect(modules).toContain("embedded:io/socket/tcp");
        expect(srcModules().filter((m) => !preloads.has(m)), `${platform}: not preloaded`).toEqual([]);
        expect(preloads).not.toContain("app/main");

        // The board build's type check, which -m would run: every .ts module against the SDK's typings with the
        // tsconfig mcconfig generated (one `<module>-tsconfig.json` each; one tsc program over all of them here).
        const modulesDir = join(out, "tmp", platform, "debug", basename(root), "modules");
        const files = readdirSync(modulesDir, { recursive: true }).map(String).filter((f) => f.endsWith("-tsconfig.json"))
          .flatMap((f) => (JSON.parse(readFileSync(join(modulesDir, f), "utf8")) as { files: string[] }).files);
        expect(files).toContain(join(root, "src", "mqtt", "client.ts"));
        const all = join(out, "all-tsconfig.json");
        writeFileSync(all, JSON.stringify({ extends: join(modulesDir, "tsconfig-base.json"), compilerOptions: { noEmit: true, rootDir: "/" }, files }));
        const tsc = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", all], { cwd: root, encoding: "utf8" });
        expect(tsc.stdout + tsc.stderr, `${platform}: type errors against the SDK's typings`).toBe("");
        expect(tsc.status).toBe(0);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  }

  describe("on lin, against mosquitto", () => {
    const user = "tester";
    let broker: Mosquitto;
    let app: ChildProcess;
    let watcher: MqttClient;
    const lines: { at: number; text: string }[] = [];
    const readings: { at: number; value: string }[] = [];
    const trace = () => lines.map((l) => l.text).join("\n");
    const has = (re: RegExp, after = 0) => lines.some((l) => l.at >= after && re.test(l.text));

    beforeAll(async () => {
      // Persistence keeps the watcher's session (and the readings queued for it) across the restart.
      broker = await Mosquitto.start({ persistence: true });
      await broker.stop(); // down when the device boots
      mkdirSync(buildRoot, { recursive: true });
      app = spawn(process.execPath, [xsmqBin, "run", "--platform", "lin", "--broker", `mqtt://127.0.0.1:${broker.port}`,
        "--username", user, "--interval", "1", "--rate-limit", "120"], { cwd: root, env: { ...process.env, XSMQ_BUILD_DIR: buildRoot }, stdio: ["ignore", "pipe", "pipe"] });
      const collect = (s: NodeJS.ReadableStream) => createInterface({ input: s }).on("line", (text) => lines.push({ at: Date.now(), text }));
      collect(app.stdout!);
      collect(app.stderr!);
      await until("the app to boot on the lin runtime (build included)", () => has(/^app: /) || app.exitCode !== null, 240_000);
      expect(app.exitCode, trace()).toBeNull();
    }, 250_000);

    afterAll(async () => {
      if (app && app.exitCode === null) {
        const exited = new Promise((r) => app.once("exit", r));
        app.kill("SIGINT");
        await exited;
      }
      await watcher?.endAsync(true);
      await broker?.close();
    });

    it("the lin build holds every module the app imports, src/ preloaded", () => {
      const makefile = join(buildRoot, "moddable", "tmp", "lin", "mc", "debug", basename(root), "makefile");
      const { modules, preloads } = makefileModules(makefile);
      expect([...appImports()].filter((m) => !modules.has(m))).toEqual([]);
      expect(srcModules().filter((m) => !preloads.has(m))).toEqual([]);
      expect(existsSync(join(buildRoot, "moddable", "bin", "lin", "mc", "debug", basename(root), "mc.so"))).toBe(true);
    });

    it("survives a broker that is down at boot, then connects when it comes up", async () => {
      await until("Wi-Fi to come up and a first connection attempt to fail", () => has(/^Wi-Fi: connected/), 10_000);
      await sleep(3000);
      expect(app.exitCode, trace()).toBeNull();
      expect(has(/XS abort/), trace()).toBe(false);
      expect(has(/^MQTT: connected/)).toBe(false);
      await broker.restart();
      await until("the app to connect", () => has(/^MQTT: connected/), 30_000);
    }, 60_000);

    it("publishes readings and receives onoff and slider changes", async () => {
      watcher = await mqtt.connectAsync(broker.url, { clientId: "xsmq-sdk-test-watcher", clean: false, reconnectPeriod: 200 });
      await watcher.subscribeAsync(`${user}/feeds/photocell`, { qos: 1 });
      watcher.on("message", (_topic, payload) => readings.push({ at: Date.now(), value: payload.toString() }));
      await until("3 readings at the broker", () => readings.length >= 3, 10_000);
      const start = Date.now();
      await watcher.publishAsync(`${user}/feeds/onoff`, "ON", { qos: 1 });
      await watcher.publishAsync(`${user}/feeds/slider`, "42", { qos: 1 });
      await until("onoff ON and slider 42 in the trace", () => has(/^onoff: ON$/, start) && has(/^slider: 42$/, start), 5000);
      await watcher.publishAsync(`${user}/feeds/onoff`, "OFF", { qos: 1 });
      await until("onoff OFF in the trace", () => has(/^onoff: OFF$/, start), 5000);
    }, 30_000);

    it("survives a broker restart and delivers the readings taken while it was down", async () => {
      const down = Date.now();
      await broker.stop();
      await sleep(4000);
      const up = Date.now();
      await broker.restart();
      const takenWhileDown = lines.filter((l) => l.at > down && l.at < up).map((l) => /^photocell: (\d+)$/.exec(l.text)?.[1]).filter((v) => v !== undefined);
      expect(takenWhileDown.length, trace()).toBeGreaterThanOrEqual(3);
      await until(`readings ${takenWhileDown.join(", ")} at the broker after the restart`, () => {
        const after = readings.filter((r) => r.at >= up).map((r) => r.value);
        return takenWhileDown.every((v) => after.includes(v));
      }, 30_000);
      expect(app.exitCode, trace()).toBeNull();
      expect(has(/XS abort/), trace()).toBe(false);
    }, 60_000);

    it("ran at least 20 s on the runtime and stops cleanly on Ctrl-C", async () => {
      const booted = lines.find((l) => /^app: /.test(l.text))!.at;
      if (Date.now() - booted < 20_000) await sleep(20_000 - (Date.now() - booted));
      const exited = new Promise<number | null>((r) => app.once("exit", (code) => r(code)));
      app.kill("SIGINT");
      expect(await exited, trace()).toBe(0);
    }, 30_000);
  });

  describe("an MQTT 5.0 app (the mqtt template, protocol 5) on lin, against mosquitto", () => {
    it("connects in 5.0 on Moddable's runtime and its readings reach a 5.0 subscriber", async () => {
      const broker = await Mosquitto.start();
      const dir = join(mkdtempSync(join(tmpdir(), "xsmq-sdk-v5-")), "shed");
      let app: ChildProcess | undefined, watcher: MqttClient | undefined;
      try {
        expect(spawnSync(process.execPath, [xsmqBin, "init", dir, "--template", "mqtt"], { encoding: "utf8" }).status).toBe(0);
        mkdirSync(join(dir, "node_modules"));
        spawnSync("ln", ["-s", root, join(dir, "node_modules", "xsmq")]);
        const config = JSON.parse(readFileSync(join(dir, "xsmq.config.json"), "utf8"));
        config.config = { ...config.config, protocol: "5" };
        writeFileSync(join(dir, "xsmq.config.json"), JSON.stringify(config, null, 2));
        watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: "xsmq-sdk-v5-watcher" });
        const readings: string[] = [];
        watcher.on("message", (topic, payload) => { if (topic === "shed/photocell") readings.push(payload.toString()); });
        await watcher.subscribeAsync("shed/#", { qos: 1 });
        const lines: string[] = [];
        app = spawn(process.execPath, [xsmqBin, "run", "--platform", "lin", "--broker", broker.url, "--interval", "1"],
          { cwd: dir, env: { ...process.env, XSMQ_BUILD_DIR: join(buildRoot, "v5") }, stdio: ["ignore", "pipe", "pipe"] });
        for (const st of [app.stdout!, app.stderr!]) createInterface({ input: st }).on("line", (l) => lines.push(l));
        await until("MQTT 5.0: connected in the trace (build included)", () => lines.some((l) => /^MQTT 5\.0: connected/.test(l)) || app!.exitCode !== null, 240_000);
        expect(lines.join("\n")).toMatch(/^MQTT 5\.0: connected to 127\.0\.0\.1:/m);
        await until("3 readings at the 5.0 subscriber", () => readings.length >= 3, 15_000);
        expect(lines.some((l) => /XS abort|not supported/.test(l)), lines.join("\n")).toBe(false);
      } finally {
        if (app && app.exitCode === null) {
          const exited = new Promise((r) => app!.once("exit", r));
          app.kill("SIGINT");
          await exited;
        }
        await watcher?.endAsync(true);
        await broker.close();
      }
    }, 300_000);
  });
});
