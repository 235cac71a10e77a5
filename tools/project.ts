// The project a command works on: the folder holding manifest.json (the current one or the nearest above),
// its xsmq.config.json, and the Moddable config the firmware gets, merged from the command line, the
// environment, .env and the project file. Secrets (Wi-Fi password, broker key) are only ever shown masked.
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError } from "./cli-error.ts";

/** Where xsmq itself is installed (this repository, or node_modules/xsmq). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export const packageVersion = (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version;

export const projectFileName = "xsmq.config.json";

/** xsmq.config.json: everything optional. */
export interface ProjectFile {
  /** The TypeScript module `xsmq sim` runs (default src/main.ts, or src/app/main.ts in xsmq itself). */
  main?: string;
  /** Default --platform of build. */
  platform?: string;
  /** Default --port of flash and monitor. */
  port?: string;
  /** Default --baud of monitor. */
  baud?: number;
  /** The broker `xsmq sim` starts when none is given: "aio" (Adafruit IO emulator, default) or "mqtt" (plain). */
  localBroker?: string;
  /** Moddable config (mc/config) for every build and simulation. Keep secrets in .env instead. */
  config?: Record<string, string | number | boolean>;
}

export interface Project {
  root: string;
  /** The folder's name: mcconfig names its output folder after it. */
  name: string;
  manifest: string;
  file: ProjectFile;
  /** The main module `xsmq sim` runs, when there is one. */
  main: string | undefined;
  /** What `xsmq build` type-checks first, when there is one. */
  tsconfig: string | undefined;
  /** The project is xsmq's own repository (the example app). */
  isPackage: boolean;
}

/** The project holding `from` (the folder with manifest.json, this one or the nearest above), or undefined. */
export function findProject(from = process.cwd()): Project | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "manifest.json")) && statSync(join(dir, "manifest.json")).isFile()) return loadProject(dir);
    if (dirname(dir) === dir) return undefined;
  }
}

/** The project, or an error that says how to make one. */
export function requireProject(from = process.cwd()): Project {
  const project = findProject(from);
  if (!project) {
    throw new CliError(`no Moddable project here (no manifest.json in ${resolve(from)} or above)`,
      "Make one with: npx xsmq init my-sensor   (then cd my-sensor)");
  }
  return project;
}

export function loadProject(root: string): Project {
  const path = join(root, projectFileName);
  let file: ProjectFile = {};
  if (existsSync(path)) {
    try {
      file = JSON.parse(readFileSync(path, "utf8")) as ProjectFile;
    } catch (e) {
      throw new CliError(`${path} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof file !== "object" || file === null || Array.isArray(file)) throw new CliError(`${path} must hold a JSON object`);
  }
  const isPackage = resolve(root) === packageRoot;
  const main = file.main !== undefined ? resolve(root, file.main)
    : ["src/main.ts", "main.ts", "src/app/main.ts"].map((f) => join(root, f)).find((f) => existsSync(f));
  const tsconfig = ["tsconfig.src.json", "tsconfig.json"].map((f) => join(root, f)).find((f) => existsSync(f));
  return { root, name: basename(root), manifest: join(root, "manifest.json"), file, main, tsconfig, isPackage };
}

/** Environment variables that carry settings, and the config key each sets. */
export const envSettings: Record<string, string> = { WIFI_SSID: "ssid", WIFI_PASSWORD: "password", AIO_USERNAME: "username", AIO_KEY: "key" };

/** Config keys never printed in clear. */
export function isSecret(key: string): boolean {
  return /password|key|secret|token/i.test(key) && key !== "keepalive";
}

/** `config` for printing: secrets as ***. */
export function masked(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, isSecret(k) && v !== "" ? "***" : v]));
}

/** A .env file's variables: KEY=value lines, `export ` allowed, # comments, values optionally quoted. */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!m) continue;
    let value = m[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
    } else value = value.replace(/\s+#.*$/, "");
    out[m[1]] = value;
  }
  return out;
}

/** `--config key=value` arguments as an object; a malformed one is an error. */
export function parseConfigArgs(list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const m = /^([A-Za-z_][\w.-]*)=(.*)$/s.exec(item);
    if (!m) throw new CliError(`--config ${item}: expected key=value`, "e.g. --config interval=10000 --config led=2", 2);
    out[m[1]] = m[2];
  }
  return out;
}

export interface SettingsInput {
  /** --config key=value items. */
  config?: readonly string[];
  /** Values of dedicated options (--ssid, --key...), by config key; undefined ones are ignored. */
  flags?: Record<string, string | undefined>;
}

/**
 * The Moddable config for the project's firmware, later sources winning: xsmq.config.json's "config", .env,
 * the environment (WIFI_SSID, WIFI_PASSWORD, AIO_USERNAME, AIO_KEY; empty means unset), --config, then the
 * dedicated options. Keys the manifest sets and nobody overrides are left to mcconfig.
 */
export function projectSettings(project: Project | undefined, input: SettingsInput = {}, env = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(project?.file.config ?? {})) out[k] = String(v);
  const dotEnvPath = project ? join(project.root, ".env") : undefined;
  const dotEnv = dotEnvPath && existsSync(dotEnvPath) ? parseDotEnv(readFileSync(dotEnvPath, "utf8")) : {};
  for (const source of [dotEnv, env]) {
    for (const [name, key] of Object.entries(envSettings)) {
      const value = source[name];
      if (value !== undefined && value !== "") out[key] = value;
    }
  }
  Object.assign(out, parseConfigArgs(input.config));
  for (const [k, v] of Object.entries(input.flags ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

/** The manifest's own "config" (the app's defaults, which mcconfig applies itself; the simulator and `xsmq run` read them here). */
export function manifestConfig(project: Project | undefined): Record<string, string> {
  if (!project || !existsSync(project.manifest)) return {};
  try {
    const config = (JSON.parse(readFileSync(project.manifest, "utf8")) as { config?: Record<string, unknown> }).config ?? {};
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
  } catch (e) {
    throw new CliError(`${project.manifest} is not valid JSON: ${(e as Error).message}`);
  }
}
