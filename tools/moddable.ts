// Finds the Moddable SDK, its mcconfig tool and the ESP toolchains, and says how to install what is
// missing. Shared by `xsmq build` (which stops) and `xsmq doctor` (which reports).
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir, platform } from "node:os";
import { delimiter, dirname, join } from "node:path";

export type Platform = "esp8266" | "esp32" | "lin";
/** Moddable's name for each platform (`mcconfig -p`). */
export const moddablePlatform: Record<Platform, string> = { esp8266: "esp", esp32: "esp32", lin: "lin" };

export interface Found { ok: true; path: string }
export interface Missing { ok: false; what: string; fix: string }
export type Lookup = Found | Missing;

const docs = "https://github.com/Moddable-OpenSource/moddable/blob/public/documentation";

export function findOnPath(name: string, env = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export function findSdk(env = process.env): Lookup {
  const dir = env.MODDABLE;
  if (!dir) {
    return { ok: false, what: "the Moddable SDK ($MODDABLE is not set)", fix:
      `Install it (${docs}/Moddable%20SDK%20-%20Getting%20Started.md):\n` +
      "  git clone https://github.com/Moddable-OpenSource/moddable ~/Projects/moddable\n" +
      "  export MODDABLE=~/Projects/moddable          (add this to your shell profile)\n" +
      "  cd $MODDABLE/build/makefiles/lin && make     (builds mcconfig and the simulator)" };
  }
  if (!existsSync(join(dir, "examples", "manifest_base.json"))) {
    return { ok: false, what: `a Moddable SDK at $MODDABLE=${dir} (no examples/manifest_base.json there)`, fix: "Point $MODDABLE at the root of a Moddable SDK checkout." };
  }
  return { ok: true, path: dir };
}

/** Our TypeScript (the package's own dependency): mcconfig type-checks .ts modules with `tsc` from PATH and needs >= 6. */
export function findTypeScript(): Lookup & { version?: string } {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve("typescript/package.json");
  } catch {
    return { ok: false, what: "TypeScript (the typescript package is not installed)", fix: "Run npm install in the xsmq folder." };
  }
  const version = (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
  if (Number(version.split(".")[0]) < 6) {
    return { ok: false, what: `TypeScript >= 6 (found ${version}; mcconfig compiles with target es2025)`, fix: "npm install typescript@6" };
  }
  return { ok: true, path: join(dirname(pkg), "bin", "tsc"), version };
}

function hostDir(): string {
  return platform() === "darwin" ? "mac" : platform() === "win32" ? "win" : "lin";
}

export function hostToolsDir(sdk: string): string {
  return join(sdk, "build", "bin", hostDir(), "release");
}

export function findMcconfig(sdk: string, env = process.env): Lookup {
  const name = platform() === "win32" ? "mcconfig.exe" : "mcconfig";
  const built = join(hostToolsDir(sdk), name);
  if (existsSync(built)) return { ok: true, path: built };
  const onPath = findOnPath(name, env);
  if (onPath) return { ok: true, path: onPath };
  return { ok: false, what: `mcconfig (not in ${built} nor on $PATH)`, fix: `Build the SDK tools: cd $MODDABLE/build/makefiles/${hostDir()} && make` };
}

/** The toolchain mcconfig needs to build for a platform, checked the way Moddable's makefiles do. */
export function findToolchain(target: Platform, env = process.env): Lookup {
  if (target === "esp8266") {
    const base = env.ESP_BASE ?? join(homedir(), "esp");
    const gcc = join(base, "toolchain", platform() === "darwin" ? "Darwin" : "Linux", "xtensa-lx106-elf", "bin", "xtensa-lx106-elf-gcc");
    if (existsSync(gcc)) return { ok: true, path: gcc };
    return { ok: false, what: `the ESP8266 toolchain (no ${gcc})`, fix:
      `Follow ${docs}/devices/esp8266.md: download the xtensa-lx106 toolchain, the Arduino ESP8266 core 2.3.0\n` +
      "and the ESP8266 RTOS SDK into ~/esp (or set $ESP_BASE to where they are)." };
  }
  if (target === "esp32") {
    const idf = env.IDF_PATH;
    if (idf && existsSync(join(idf, "tools", "idf.py"))) return { ok: true, path: idf };
    return { ok: false, what: `ESP-IDF for the ESP32 (${idf ? `no tools/idf.py in $IDF_PATH=${idf}` : "$IDF_PATH is not set"})`, fix:
      `Follow ${docs}/devices/esp32.md: clone ESP-IDF into ~/esp32/esp-idf, run ./install.sh,\n` +
      "then `source ~/esp32/esp-idf/export.sh` in the shell that runs xsmq build." };
  }
  const cc = findOnPath("cc", env) ?? findOnPath("gcc", env);
  const make = findOnPath("make", env);
  if (cc && make) return { ok: true, path: cc };
  return { ok: false, what: `a C compiler and make for the lin simulator (${cc ? "no make" : "no cc/gcc"})`, fix: "sudo apt-get install build-essential libgtk-3-dev" };
}
