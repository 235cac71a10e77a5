// manifest.json is a complete Moddable manifest: its structure, every path it names, module names that
// mirror src/'s folders (so relative imports resolve on the device), and ESP8266 memory that fits.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { importsOf } from "./layering.test.ts";

const root = new URL("..", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8"));
const sdkMirror = "/work/.mirror/Moddable-OpenSource+moddable/repo";

type Modules = Record<string, string | string[]>;
const localModules = manifest.modules as Modules;

function srcFolders(): string[] {
  return readdirSync(join(root, "src")).filter((n) => statSync(join(root, "src", n)).isDirectory());
}

/** Whether an SDK-relative path exists: in $MODDABLE when set, else in the SDK mirror, else unknown. */
function sdkHas(path: string): boolean | undefined {
  const rel = path.replace("$(MODDABLE)/", "").replace("$(MODULES)/", "modules/");
  if (process.env.MODDABLE) return existsSync(join(process.env.MODDABLE, rel));
  if (existsSync(sdkMirror)) {
    try { execFileSync("git", ["-C", sdkMirror, "cat-file", "-e", `HEAD:${rel}`], { stdio: "ignore" }); return true; } catch { return false; }
  }
  return undefined;
}

function allIncludes(m: { include?: string | string[]; platforms?: Record<string, { include?: string | string[] }> }): string[] {
  const list = (x?: string | string[]) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
  return [...list(m.include), ...Object.values(m.platforms ?? {}).flatMap((p) => list(p.include))];
}

describe("manifest.json", () => {
  it("builds on manifest_base and manifest_net and names app/main as the entry", () => {
    expect(manifest.include).toContain("$(MODDABLE)/examples/manifest_base.json");
    expect(manifest.include).toContain("$(MODDABLE)/examples/manifest_net.json");
    expect(manifest.creation.main).toBe("app/main");
    expect(Object.keys(localModules)).toContain("app/*");
  });

  it("has platform sections for esp, esp32 and lin, with our creation settings on the ESPs", () => {
    expect(Object.keys(manifest.platforms)).toEqual(expect.arrayContaining(["esp", "esp32", "lin"]));
    expect(manifest.platforms.esp.include).toContain("./hosts/esp8266/manifest.json");
    expect(manifest.platforms.esp32.include).toContain("./hosts/esp32/manifest.json");
  });

  it("has config defaults for Wi-Fi, broker and credentials, all strings like mcconfig overrides", () => {
    for (const key of ["ssid", "password", "broker", "port", "username", "key"]) expect(typeof manifest.config[key]).toBe("string");
    expect(Number(manifest.config.port)).toBe(1883);
  });

  it("passes TypeScript settings where mcconfig reads them", () => {
    expect(manifest.typescript.tsconfig.compilerOptions.strict).toBe(true);
  });

  it("lists every src/ folder as a `folder/*` module prefix mapped to that folder, and nothing outside src/", () => {
    for (const [name, source] of Object.entries(localModules)) {
      const m = /^([a-z0-9-]+)\/\*$/.exec(name);
      expect(m, `module key ${name} should be a folder wildcard`).not.toBeNull();
      expect(source).toBe(`./src/${m![1]}/*`);
    }
    for (const folder of srcFolders()) expect(localModules[`${folder}/*`], `src/${folder} missing from manifest.json`).toBeDefined();
  });

  it("every local path it names exists, and each wildcard folder holds device code", () => {
    for (const source of Object.values(localModules).flat()) {
      const dir = join(root, dirname(source));
      expect(existsSync(dir), `${source}: ${dir} missing`).toBe(true);
      const ts = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
      if (source !== "./src/feeds/*" && source !== "./src/app/*") expect(ts.length, `${source} matches no .ts file`).toBeGreaterThan(0);
    }
    for (const inc of allIncludes(manifest)) {
      if (inc.startsWith("./")) {
        expect(existsSync(join(root, inc)), inc).toBe(true);
        expect(() => JSON.parse(readFileSync(join(root, inc), "utf8"))).not.toThrow();
      } else {
        expect(inc).toMatch(/^\$\((MODDABLE|MODULES)\)\/.+\/manifest[a-z_]*\.json$/);
        expect(sdkHas(inc) ?? true, `${inc} not in the Moddable SDK`).toBe(true);
      }
    }
  });

  it("per-platform modules name files that exist (e.g. the lin pins stand-ins)", () => {
    const platformModules = Object.values(manifest.platforms as Record<string, { modules?: Record<string, string> }>)
      .flatMap((p) => Object.values(p.modules ?? {}));
    expect(platformModules.length).toBeGreaterThan(0);
    for (const source of platformModules) {
      expect(source.startsWith("./hosts/"), `${source}: platform code lives in hosts/`).toBe(true);
      expect(existsSync(join(root, source + ".ts")), `${source}.ts missing`).toBe(true);
    }
  });

  it("the entry module app/main exists (src/app/main.ts)", () => {
    expect(existsSync(join(root, "src/app/main.ts"))).toBe(true);
  });

  it("relative imports in src/ resolve to modules the manifest defines (names mirror folders)", () => {
    const moduleOf = (file: string) => relative(join(root, "src"), file).replace(/\.ts$/, "");
    const known = new Set<string>();
    for (const folder of srcFolders())
      for (const f of readdirSync(join(root, "src", folder))) if (f.endsWith(".ts") && !f.endsWith(".d.ts")) known.add(`${folder}/${f.slice(0, -3)}`);
    const unresolved: string[] = [];
    for (const name of known) {
      const file = join(root, "src", name + ".ts");
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        if (!spec.startsWith(".")) continue;
        const target = posix.normalize(posix.join(posix.dirname(moduleOf(file)), spec));
        if (!known.has(target)) unresolved.push(`${name} imports ${spec} -> ${target}`);
      }
    }
    expect(known.size).toBeGreaterThan(0);
    expect(unresolved).toEqual([]);
  });
});

describe("creation settings", () => {
  const esp8266 = JSON.parse(readFileSync(join(root, "hosts/esp8266/manifest.json"), "utf8")).creation;
  const esp32 = JSON.parse(readFileSync(join(root, "hosts/esp32/manifest.json"), "utf8")).creation;

  it("ESP8266: a 32 KB static block with at least a third left for the app after boot", () => {
    expect(esp8266.static).toBe(32768);
    const atBoot = esp8266.chunk.initial + esp8266.heap.initial * 16 + esp8266.stack * 16;
    expect(atBoot).toBeLessThanOrEqual((esp8266.static * 2) / 3);
    expect(esp8266.keys.incremental).toBe(0);
  });

  it("ESP32: fixed, separately allocated heaps (static 0, no incremental growth)", () => {
    expect(esp32.static).toBe(0);
    expect(esp32.chunk.incremental).toBe(0);
    expect(esp32.heap.incremental).toBe(0);
    expect(esp32.chunk.initial).toBeGreaterThan(esp8266.chunk.initial);
  });
});
