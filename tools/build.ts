// `xsmq build`: type-check the project, then build its firmware with the Moddable SDK's mcconfig from its
// manifest.json, passing the project's settings as Moddable `config` (like `mcconfig ssid=...`), into its build/.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join, relative } from "node:path";
import { CliError } from "./cli-error.ts";
import { buildDir, writeBuildRecord, type RecordedImage } from "./firmware.ts";
import { findMcconfig, findSdk, findToolchain, findTypeScript, moddablePlatform, type Platform } from "./moddable.ts";
import { numberOption, parseOptions } from "./options.ts";
import { masked, projectSettings, requireProject, type Project } from "./project.ts";

export const help = `usage: xsmq build [--platform esp8266|esp32|lin] [--release] [--config key=value ...]
                  [--ssid S] [--password P] [--broker HOST] [--broker-port N] [--username U] [--key K]
                  [--skip-typecheck]

Builds the project in this folder (the nearest manifest.json): type-checks it with tsc (tsconfig.src.json
or tsconfig.json), then builds the firmware with the Moddable SDK (mcconfig, from manifest.json).
Needs $MODDABLE (the SDK) and, for esp8266/esp32, that platform's toolchain: \`xsmq doctor\` checks both.

  --platform P      esp8266 (default, or xsmq.config.json's "platform"), esp32, or lin (Moddable's desktop
                    platform; run it with xsmq run)
  --release         a release build (default: debug, which talks to xsbug)
  --config K=V      a Moddable config setting (repeat for more), e.g. --config interval=10000
  --ssid, --password               Wi-Fi network the board joins
  --broker, --broker-port          MQTT broker (default io.adafruit.com:8883 over TLS; --config secure=false for 1883)
  --username, --key                broker credentials (Adafruit IO user name and key)
  --skip-typecheck  do not run tsc first (mcconfig type-checks again anyway)

Settings reach the firmware as Moddable config (import config from "mc/config"), as strings. Later sources win:
manifest.json's "config", xsmq.config.json's "config", .env, the environment (WIFI_SSID, WIFI_PASSWORD,
AIO_USERNAME, AIO_KEY), --config, then the options above. Passwords and keys are printed as ***.
Output goes to the project's build/moddable (or $XSMQ_BUILD_DIR); \`xsmq flash\` finds the images there.
mcconfig gets xsmq's TypeScript as \`tsc\` (it type-checks the app against the SDK's typings).`;

/** A TCP port number, as --broker-port and --port take it. */
export const portRule = { min: 1, max: 65535, integer: true, unit: "port" } as const;

/** --platform's value, checked. */
export function platformOption(name: string): Platform {
  if (!Object.hasOwn(moddablePlatform, name)) throw new CliError(`unknown platform "${name}"`, "Use --platform esp8266, esp32 or lin.", 2);
  return name as Platform;
}

/** CLI option -> Moddable config key. */
const configOptions = { ssid: "ssid", password: "password", broker: "broker", "broker-port": "port", username: "username", key: "key" } as const;

function spawnInherit(command: string, args: string[], cwd: string, env = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: "inherit", env });
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
}

/** Runs a command with its output kept, not shown: for builds whose output matters only when they fail. */
function spawnQuiet(command: string, args: string[], cwd: string, env = process.env): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env });
    let output = "";
    child.stdout!.on("data", (d) => { output += d; });
    child.stderr!.on("data", (d) => { output += d; });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

async function typecheck(project: Project): Promise<void> {
  if (!project.tsconfig) return;
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const config = relative(project.root, project.tsconfig);
  console.log(`Type-checking (tsc -p ${config})...`);
  const code = await spawnInherit(process.execPath, [tsc, "-p", config], project.root);
  if (code !== 0) throw new CliError("the app has type errors (listed above)", "Fix them and build again; mcconfig would reject them too.");
}

/** mcconfig's arguments: make, platform, debug unless release, build only, our output dir, then config. */
export function mcconfigArgs(target: Platform, release: boolean, outDir: string, config: Record<string, string>): string[] {
  return ["-m", "-p", moddablePlatform[target], ...(release ? [] : ["-d"]), "-t", "build", "-o", outDir,
    ...Object.entries(config).map(([k, v]) => `${k}=${v}`)];
}

/**
 * Where mcconfig puts the app: bin/<platform>[/mc on lin]/<debug|release>/<name>, where <name> is the folder
 * holding manifest.json (the project's folder name). On lin the app is mc.so there.
 */
export function mcconfigBinDir(target: Platform, release: boolean, outDir: string, name: string): string {
  const platform = moddablePlatform[target];
  return join(outDir, "bin", platform, ...(platform === "lin" ? ["mc"] : []), release ? "release" : "debug", name);
}

/**
 * A folder holding a `tsc` that runs our TypeScript with this Node: mcconfig's makefiles call `tsc` from PATH,
 * and whatever tsc a user has there (or none) is not the one src/ is written for.
 */
export function tscShim(dir: string): string {
  const ts = findTypeScript();
  if (!ts.ok) throw new CliError(`cannot build firmware: missing ${ts.what}`, ts.fix);
  const bin = join(dir, ".bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "tsc"), `#!/bin/sh\nexec "${process.execPath}" "${ts.path}" "$@"\n`);
  chmodSync(join(bin, "tsc"), 0o755);
  return bin;
}

/** The images Moddable's makefiles flash, with the offsets they use, that exist after a build. */
export function builtImages(target: Platform, binDir: string, env = process.env): RecordedImage[] {
  const candidates: RecordedImage[] = [];
  if (target === "esp8266") {
    const sdk = env.ESPRESSIF_SDK_ROOT ?? join(env.ESP_BASE ?? "", "ESP8266_RTOS_SDK");
    const firmware = join(sdk, "components", "esp8266", "firmware");
    candidates.push({ address: 0x0, path: join(firmware, "boot_v1.7.bin") }, { address: 0x1000, path: join(binDir, "main.bin") },
      { address: 0x3fc000, path: join(firmware, "esp_init_data_default.bin") });
  } else if (target === "esp32") {
    candidates.push({ address: 0x1000, path: join(binDir, "bootloader.bin") }, { address: 0x8000, path: join(binDir, "partition-table.bin") },
      { address: 0x10000, path: join(binDir, "xs_esp32.bin") });
  }
  return candidates.filter((c) => existsSync(c.path) && statSync(c.path).isFile());
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    platform: { type: "string" },
    release: { type: "boolean", default: false },
    config: { type: "string", multiple: true },
    ssid: { type: "string" }, password: { type: "string" },
    broker: { type: "string" }, "broker-port": { type: "string" },
    username: { type: "string" }, key: { type: "string" },
    "skip-typecheck": { type: "boolean", default: false },
  });
  const project = requireProject();
  const target = platformOption(values.platform ?? project.file.platform ?? "esp8266");
  numberOption("broker-port", values["broker-port"], undefined, portRule);

  if (!values["skip-typecheck"]) await typecheck(project);
  const flags = Object.fromEntries(Object.entries(configOptions).map(([option, key]) => [key, values[option as keyof typeof configOptions]]));
  const config = projectSettings(project, { config: values.config, flags });
  const built = await buildFirmware(project, target, values.release, config);
  if (target === "lin") console.log(`Built the lin app: ${built.binDir}/mc.so\nRun it with: xsmq run --platform lin`);
  else if (built.images.length === 0) console.log(`Build finished, but no firmware image was found in ${built.binDir}.`);
  else for (const image of built.images) console.log(`  0x${image.address.toString(16).padStart(6, "0")}  ${image.path}`);
  if (target !== "lin") console.log("Flash it with: xsmq flash --port /dev/ttyUSB0");
  return 0;
}

export interface Built { binDir: string; images: RecordedImage[] }

/**
 * Runs mcconfig for a platform with Moddable config settings; records the images for `xsmq flash`.
 * `quiet` shows mcconfig's output only if it fails, and else just its summary (XS instances and keys).
 */
export async function buildFirmware(project: Project, target: Platform, release: boolean, config: Record<string, string>, quiet = false): Promise<Built> {
  const sdk = findSdk();
  if (!sdk.ok) throw new CliError(`cannot build firmware: missing ${sdk.what}`, sdk.fix);
  const mcconfig = findMcconfig(sdk.path);
  if (!mcconfig.ok) throw new CliError(`cannot build firmware: missing ${mcconfig.what}`, mcconfig.fix);
  const toolchain = findToolchain(target);
  if (!toolchain.ok) throw new CliError(`cannot build for ${target}: missing ${toolchain.what}`, toolchain.fix);

  const outDir = join(buildDir(project), "moddable");
  mkdirSync(outDir, { recursive: true }); // mcconfig -o wants an existing folder
  // Our tsc first, then the SDK's tools (xsc, xsl...), as Moddable's set-up guide puts them on PATH.
  const path = [tscShim(outDir), dirname(mcconfig.path), process.env.PATH ?? ""].join(delimiter);
  const args = mcconfigArgs(target, release, outDir, config);
  const shown = mcconfigArgs(target, release, outDir, masked(config));
  console.log(`Building ${project.name} for ${target}: mcconfig ${shown.join(" ")}`);
  const env = { ...process.env, MODDABLE: sdk.path, PATH: path };
  let code: number;
  if (quiet) {
    const r = await spawnQuiet(mcconfig.path, args, project.root, env);
    code = r.code;
    if (code !== 0) process.stderr.write(r.output);
    else for (const line of r.output.split("\n")) if (/^### \d+ instances/.test(line)) console.log(line);
  } else code = await spawnInherit(mcconfig.path, args, project.root, env);
  if (code !== 0) throw new CliError(`mcconfig failed (exit code ${code}); its output is above`);

  const binDir = mcconfigBinDir(target, release, outDir, project.name);
  const images = builtImages(target, binDir);
  writeBuildRecord({ platform: target, images }, buildDir(project));
  return { binDir, images };
}
