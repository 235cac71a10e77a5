// `xsmq run --platform lin`: builds the project's app with mcconfig and runs it on Moddable's own lin runtime
// (the built mc.so, loaded by tools/lin-host.c: no display, no GTK), against the local Adafruit IO emulator
// or a broker of your own, showing the device's trace.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { chooseLocalBroker, startLocalBroker, type LocalBroker } from "../sim/run/local-broker.ts";
import { buildFirmware } from "./build.ts";
import { CliError } from "./cli-error.ts";
import { buildDir } from "./firmware.ts";
import { findSdk, findOnPath } from "./moddable.ts";
import { brokerOption, brokerSettings, durationRule, numberOption, parseOptions } from "./options.ts";
import { manifestConfig, packageRoot, projectSettings, requireProject } from "./project.ts";

export const help = `usage: xsmq run --platform lin [--broker mqtt://HOST:PORT] [--username U] [--key K]
                [--config K=V ...] [--interval S] [--rate-limit N] [--duration S] [--release]

Builds the project's app (the manifest.json in this folder or above) for Moddable's lin platform with
mcconfig, then runs it on the real XS runtime in this terminal: no board, no display. Wi-Fi is Moddable's
lin simulation (joins in about 2 s).
Each line of the device's trace is printed as it comes; Ctrl-C stops it. With the local broker, on a terminal,
keys play the dashboard: o toggles onoff, < > move the slider, r restarts the broker (3 s down), q quits.

  --platform lin     the only platform that runs here (boards: xsmq build, flash, monitor)
  --broker URL       mqtt://host:port (or mqtts://host:port, TLS) of your broker; default: a local Adafruit IO emulator on 127.0.0.1,
                     whose stored readings are shown as "broker:" lines
  --local-broker K   aio (default), mqtt (a plain local broker, MQTT 3.1.1; default with "localBroker": "mqtt" in
                     xsmq.config.json) or mosquitto (MQTT 5.0 and 3.1.1; default for "mqtt" when the app's
                     protocol setting is 5)
  --username, --key  broker user name and password (Adafruit IO user and key); default: the project's
                     settings ($AIO_USERNAME / $AIO_KEY, .env, xsmq.config.json), else "xsmq-demo"
  --config K=V       a Moddable config setting for the app (repeat for more), as xsmq build takes it
  --interval S       seconds between photocell readings (default: config interval, else 3)
  --rate-limit N     data points per minute the app allows itself (default: 30, Adafruit IO's free plan, with
                     --broker; enough for --interval with the local emulator)
  --duration S       stop after S seconds (> 0; leave it out to run until Ctrl-C)
  --release          a release build (default debug: exceptions are traced with file and line)

Needs $MODDABLE (a Moddable SDK with its lin tools built), a C compiler and GLib's headers (libglib2.0-dev,
which libgtk-3-dev brings): \`xsmq doctor\` checks them.`;

/** The loader's source, and where the CLI compiles it. */
const hostSource = join(packageRoot, "tools", "lin-host.c");

/** Exit status of tools/lin-host.c when XS aborts (an unhandled exception: a board would reboot). */
const ABORTED = 3;

/** Compiles tools/lin-host.c against the SDK's simulator header unless the binary is newer. */
export function linHost(sdk: string, outDir: string): string {
  const exe = join(outDir, "xsmq-lin");
  if (existsSync(exe) && statSync(exe).mtimeMs > statSync(hostSource).mtimeMs) return exe;
  const cc = findOnPath("cc") ?? findOnPath("gcc");
  if (!cc) throw new CliError("cannot build the lin loader: no C compiler (cc)", "sudo apt-get install build-essential");
  const glib = spawnSync("pkg-config", ["--cflags", "--libs", "glib-2.0"], { encoding: "utf8" });
  if (glib.status !== 0) throw new CliError("cannot build the lin loader: GLib's headers are missing (pkg-config glib-2.0)", "sudo apt-get install libglib2.0-dev pkg-config");
  mkdirSync(outDir, { recursive: true });
  const args = ["-O2", "-o", exe, hostSource, "-I", join(sdk, "build", "simulators", "modules"), ...glib.stdout.trim().split(/\s+/), "-ldl"];
  const r = spawnSync(cc, args, { encoding: "utf8" });
  if (r.status !== 0) throw new CliError(`cannot build the lin loader: ${cc} failed`, `${r.stderr}`.trim());
  return exe;
}

/** A line of trace worth showing: the debug build's once-a-second instrumentation samples are not. */
export function isTraceLine(line: string): boolean {
  return !/^instruments( key)?:/.test(line);
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    platform: { type: "string", default: "lin" },
    broker: { type: "string" }, "local-broker": { type: "string" }, username: { type: "string" }, key: { type: "string" },
    config: { type: "string", multiple: true },
    interval: { type: "string" }, "rate-limit": { type: "string" }, duration: { type: "string" },
    release: { type: "boolean", default: false },
  });
  if (values.platform !== "lin") {
    throw new CliError(`xsmq run runs the lin platform only (not "${values.platform}")`,
      "On a board: xsmq build --platform esp8266, then xsmq flash and xsmq monitor.", 2);
  }
  const project = requireProject();
  const settings = projectSettings(project, { config: values.config, flags: { username: values.username, key: values.key } });
  const interval = numberOption("interval", values.interval, Number(settings.interval ?? manifestConfig(project).interval ?? 3000) / 1000, { above: true, unit: "seconds" });
  const duration = numberOption("duration", values.duration, undefined, durationRule);
  // Room for the readings plus the app's /get requests with the local emulator, like `xsmq sim`.
  const rateLimit = numberOption("rate-limit", values["rate-limit"], values.broker ? 30 : Math.max(30, Math.ceil(120 / interval)),
    { min: 1, integer: true });
  const target = brokerOption(values.broker);
  const localKind = chooseLocalBroker(values["local-broker"], project.file.localBroker, settings.protocol ?? manifestConfig(project).protocol);
  if (!localKind) throw new CliError(`--local-broker ${values["local-broker"] ?? project.file.localBroker}: expected aio, mqtt or mosquitto`, undefined, 2);
  const sdk = findSdk();
  if (!sdk.ok) throw new CliError(`cannot run on lin: missing ${sdk.what}`, sdk.fix);
  const outDir = join(buildDir(project), "moddable");
  const host = linHost(sdk.path, outDir);

  // The broker comes first: its address is built into the app (mc/config).
  let broker: LocalBroker | undefined;
  const username = settings.username ?? "xsmq-demo";
  let key = settings.key ?? "";
  if (!target) {
    key ||= `aio_${randomBytes(12).toString("hex")}`;
    broker = await startLocalBroker(localKind, { users: { [username]: key }, rateLimitPerMinute: rateLimit,
      topicPrefix: settings.topic ?? manifestConfig(project).topic });
  }
  // An external broker's URL says whether the app uses TLS (mqtts://); the local brokers are plain.
  const where = target ? brokerSettings(target) : { broker: broker!.host, port: String(broker!.port) };
  const brokerHost = where.broker, brokerPort = where.port;

  let status: number;
  try {
    const built = await buildFirmware(project, "lin", values.release, {
      ssid: "xsmq-lin", password: "simulated", ...settings, ...where, username, key,
      interval: String(Math.round(interval * 1000)), rateLimit: String(rateLimit),
    }, true);
    console.log(`xsmq run: ${join(built.binDir, "mc.so")} on Moddable's lin runtime, broker ${target?.protocol === "mqtts:" ? "mqtts" : "mqtt"}://${brokerHost}:${brokerPort}` +
      `${broker ? ` (${broker.label})` : ""}, user ${username}`);
    broker?.onReading((_client, key, value) => console.log(`broker: ${key} = ${value}`));
    const keys = broker && process.stdin.isTTY ? dashboardKeys(broker, username) : undefined;
    status = await runHost(host, join(built.binDir, "mc.so"), duration ?? 0, keys);
  } finally {
    await broker?.close();
  }
  if (status === ABORTED) throw new CliError("the app aborted (XS abort: an unhandled exception; a board would reboot)", "Its trace is above.");
  if (status !== 0) throw new CliError(`the lin runtime exited with status ${status}`);
  return 0;
}

interface Keys { start(quit: () => void): void; stop(): void }

/** Terminal keys that write the feeds as the Adafruit IO dashboard does (raw mode: Ctrl-C arrives as a key). */
function dashboardKeys(broker: LocalBroker, user: string): Keys {
  let onoff = false, slider = 50;
  let onData: (data: Buffer) => void = () => {};
  return {
    start(quit) {
      onData = (data) => {
        for (const k of data.toString("utf8")) {
          if (k === "q" || k === "\x03") quit();
          else if (k === "o") { onoff = !onoff; broker.write(user, "onoff", onoff ? "ON" : "OFF"); } // shown as a "broker:" line
          else if (k === "<" || k === ">") {
            slider = Math.max(0, Math.min(100, slider + (k === ">" ? 10 : -10)));
            broker.write(user, "slider", String(slider));
          } else if (k === "r") { console.log("broker: restarting (down 3 s)"); void broker.restart(3000); }
        }
      };
      process.stdin.setRawMode(true);
      process.stdin.on("data", onData).resume();
      console.log("keys: o toggle onoff  < > move slider  r restart broker  q quit");
    },
    stop() {
      process.stdin.off("data", onData);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    },
  };
}

/** Runs the loader until it exits, Ctrl-C, q, or `duration` seconds; resolves to its exit status. */
function runHost(host: string, so: string, duration: number, keys?: Keys): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(host, [so], { stdio: ["ignore", "pipe", "inherit"] });
    createInterface({ input: child.stdout! }).on("line", (line) => { if (isTraceLine(line)) console.log(line); });
    const stop = () => { if (child.exitCode === null) child.kill("SIGTERM"); };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    keys?.start(stop);
    const timer = duration > 0 ? setTimeout(stop, duration * 1000) : undefined;
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      keys?.stop();
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}
