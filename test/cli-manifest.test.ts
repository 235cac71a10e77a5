// The Moddable manifests: the root manifest.json, one per src/ folder (each folder is a Moddable module that a
// developer can include alone), and the board manifests in hosts/. Checked without an SDK: structure, every path
// they name, module names that mirror src/'s folders (so relative imports resolve on the device), preloads,
// and ESP8266 memory that fits. test/moddable-sdk.test.ts checks the same manifests with the real mcconfig.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { importsOf } from "./support/imports.ts";

const root = new URL("..", import.meta.url).pathname;
const sdkMirror = "/work/.mirror/Moddable-OpenSource+moddable/repo";
const platforms = ["esp", "esp32", "lin"] as const;

type Modules = Record<string, string | string[]>;
interface Section { include?: string | string[]; modules?: Modules; preload?: string | string[] }
interface Manifest extends Section { creation?: Record<string, unknown>; config?: Record<string, string>; platforms?: Record<string, Section>;
  typescript?: { tsconfig: { compilerOptions: Record<string, unknown> } } }

const list = (x?: string | string[]) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const read = (path: string): Manifest => JSON.parse(readFileSync(path, "utf8"));
const manifest = read(join(root, "manifest.json"));

function srcFolders(): string[] {
  return readdirSync(join(root, "src")).filter((n) => statSync(join(root, "src", n)).isDirectory());
}

/** The device modules of a src/ folder, by their Moddable names ("mqtt/client"). */
function folderModules(folder: string): string[] {
  return readdirSync(join(root, "src", folder)).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).map((f) => `${folder}/${f.slice(0, -3)}`).sort();
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

/** What one platform's build gets from our own manifests (SDK manifests are named, not read). */
interface Merged { files: string[]; sdkIncludes: string[]; modules: Map<string, string>; preload: string[] }

function merge(platform: string): Merged {
  const out: Merged = { files: [], sdkIncludes: [], modules: new Map(), preload: [] };
  const visit = (file: string) => {
    if (out.files.includes(file)) return;
    out.files.push(file);
    const m = read(file);
    for (const section of [m, m.platforms?.[platform] ?? {}]) {
      for (const inc of list(section.include)) {
        if (inc.startsWith("$(")) out.sdkIncludes.push(inc);
        else visit(join(dirname(file), inc));
      }
      for (const [name, source] of Object.entries(section.modules ?? {})) for (const s of list(source)) {
        out.modules.set(name, s.startsWith("$(") ? s : join(dirname(file), s));
      }
      out.preload.push(...list(section.preload));
    }
  };
  visit(join(root, "manifest.json"));
  return out;
}

describe("manifest.json (the app)", () => {
  it("builds on manifest_base and manifest_net, includes the app's module manifest, and names app/main as the entry", () => {
    expect(manifest.include).toEqual(expect.arrayContaining(["$(MODDABLE)/examples/manifest_base.json", "$(MODDABLE)/examples/manifest_net.json", "./src/app/manifest.json"]));
    expect(manifest.creation!.main).toBe("app/main");
    expect(manifest.modules, "device modules are listed by each src/ folder's manifest").toBeUndefined();
  });

  it("includes hosts/manifest.json: a board manifest for esp, esp32 and lin, and an error for any other platform", () => {
    // The same file a user's project includes from node_modules/xsmq (templates/*/manifest.json).
    expect(manifest.include).toContain("./hosts/manifest.json");
    expect(manifest.platforms, "platforms come from hosts/manifest.json").toBeUndefined();
    const boards = read(join(root, "hosts", "manifest.json"));
    expect(list(boards.platforms!.esp.include)).toEqual(["./esp8266/manifest.json"]);
    expect(list(boards.platforms!.esp32.include)).toEqual(["./esp32/manifest.json"]);
    expect(list(boards.platforms!.lin.include)).toEqual(["./lin/manifest.json"]);
    expect((boards.platforms!["..."] as { error?: string }).error).toMatch(/esp.*esp32.*lin/);
    for (const p of platforms) for (const inc of list(boards.platforms![p].include)) expect(existsSync(join(root, "hosts", inc)), inc).toBe(true);
  });

  it("has config defaults for Wi-Fi, broker and credentials, all strings like mcconfig overrides", () => {
    for (const key of ["ssid", "password", "broker", "port", "username", "key", "ca"]) expect(typeof manifest.config![key]).toBe("string");
    // TLS by the app's default (on for io.adafruit.com) except on ESP8266, whose 32 KB heap and 256-slot stack the
    // handshake does not fit beside the app (README "MQTT over TLS"): there plain MQTT, unless secure=true.
    expect(manifest.config!.secure).toBeUndefined();
    expect((read(join(root, "hosts/esp8266/manifest.json")) as { config?: Record<string, string> }).config?.secure).toBe("false");
    // No port: the app picks 8883 with TLS (its default for io.adafruit.com), 1883 without.
    expect(manifest.config!.broker).toBe("io.adafruit.com");
    expect(manifest.config!.port).toBe("");
  });

  it("passes TypeScript settings where mcconfig reads them (it ignores tsconfig.json)", () => {
    expect(manifest.typescript!.tsconfig.compilerOptions.strict).toBe(true);
  });
});

describe("one manifest per src/ folder", () => {
  for (const folder of srcFolders()) {
    describe(`src/${folder}/manifest.json`, () => {
      const path = join(root, "src", folder, "manifest.json");
      const m = existsSync(path) ? read(path) : undefined;

      it("exists and maps `folder/*` to its own files, so module names mirror the folder layout", () => {
        expect(m, `${path} missing`).toBeDefined();
        expect(m!.modules).toEqual({ [`${folder}/*`]: "./*" });
        expect(folderModules(folder).length).toBeGreaterThan(0);
      });

      it("preloads each of its modules by name (mcconfig's `folder/*` preload pattern matches .js only, not .ts)", () => {
        // app/main runs at boot (it starts Wi-Fi and a socket), which cannot happen at build time.
        const expected = folderModules(folder).filter((n) => n !== "app/main");
        expect([...list(m!.preload)].sort()).toEqual(expected);
      });

      it("includes only manifests that exist", () => {
        for (const inc of list(m!.include)) {
          if (inc.startsWith("$(")) expect(sdkHas(inc) ?? true, `${inc} not in the Moddable SDK`).toBe(true);
          else expect(existsSync(join(dirname(path), inc)), inc).toBe(true);
        }
      });
    });
  }

  it("each folder's manifest includes, directly or not, the folders it imports from (so it builds alone)", () => {
    const reach = (folder: string, seen = new Set<string>()): Set<string> => {
      seen.add(folder);
      for (const inc of list(read(join(root, "src", folder, "manifest.json")).include)) {
        const m = /^\.\.\/([a-z0-9-]+)\/manifest\.json$/.exec(inc);
        if (m && !seen.has(m[1])) reach(m[1], seen);
      }
      return seen;
    };
    const missing: string[] = [];
    for (const folder of srcFolders()) {
      const reached = reach(folder);
      for (const name of folderModules(folder))
        for (const spec of importsOf(readFileSync(join(root, "src", name + ".ts"), "utf8"))) {
          const target = /^\.\.\/([a-z0-9-]+)\//.exec(spec)?.[1];
          if (target && !reached.has(target)) missing.push(`${name} imports ${spec}: src/${folder}/manifest.json does not bring src/${target}`);
        }
    }
    expect(missing).toEqual([]);
  });

  it("src/net brings the legacy socket, the net module and embedded:io/socket/tcp on every platform", () => {
    const net = read(join(root, "src/net/manifest.json"));
    expect(net.include).toEqual(expect.arrayContaining(["$(MODULES)/network/socket/manifest.json", "$(MODULES)/network/net/manifest.json"]));
    for (const p of platforms) {
      const tcp = net.platforms![p].modules!["embedded:io/socket/tcp"] as string;
      expect(tcp, p).toBe(`$(MODULES)/io/socket/${p === "lin" ? "lin" : "lwip"}/tcp`);
      expect(sdkHas(tcp + ".js") ?? true, tcp).toBe(true);
      expect(list(net.platforms![p].preload)).toContain("embedded:io/socket/tcp");
    }
    // lin's tcp.c holds the listener's native code too, which does not link without the listener's class.
    expect(net.platforms!.lin.modules!["embedded:io/socket/listener"]).toBe("$(MODULES)/io/socket/lin/listener");
  });

  it("src/wifi brings the legacy `wifi` module (not in manifest_net on esp/esp32 since SDK 8.2.0), `net` and `preference`", () => {
    const wifi = read(join(root, "src/wifi/manifest.json"));
    expect(wifi.include).toEqual(expect.arrayContaining(["$(MODULES)/network/wifi/manifest.json", "$(MODULES)/network/net/manifest.json",
      "$(MODULES)/files/preference/manifest.json"]));
  });
});

describe("what each platform's build gets from our manifests", () => {
  for (const platform of platforms) {
    it(`${platform}: every src/ folder, and every module src/ imports from another folder, with its manifest`, () => {
      const merged = merge(platform);
      for (const folder of srcFolders()) {
        expect(merged.files, `src/${folder} not included on ${platform}`).toContain(join(root, "src", folder, "manifest.json"));
        expect(merged.modules.get(`${folder}/*`)).toBe(join(root, "src", folder, "*"));
      }
      for (const name of srcFolders().flatMap(folderModules)) if (name !== "app/main") expect(merged.preload, name).toContain(name);
      expect(merged.preload).not.toContain("app/main");
      expect(merged.sdkIncludes).toEqual(expect.arrayContaining(["$(MODULES)/network/wifi/manifest.json", "$(MODULES)/network/socket/manifest.json",
        "$(MODULES)/network/net/manifest.json"]));
      expect(merged.modules.get("embedded:io/socket/tcp")).toBeDefined();
    });
  }

  it("pins/analog and pins/digital: Moddable's on the ESPs, our stand-ins (hosts/lin) on lin", () => {
    for (const p of ["esp", "esp32"]) {
      expect(merge(p).sdkIncludes).toEqual(expect.arrayContaining(["$(MODULES)/pins/digital/manifest.json", "$(MODULES)/pins/analog/manifest.json"]));
    }
    const lin = merge("lin");
    for (const name of ["pins/analog", "pins/digital"]) {
      const source = lin.modules.get(name)!;
      expect(source.startsWith(join(root, "hosts/lin/")), source).toBe(true);
      expect(existsSync(source + ".ts"), `${source}.ts missing`).toBe(true);
      expect(lin.preload).toContain(name);
    }
  });

  it("every SDK manifest any of them names exists in the SDK", () => {
    const all = new Set(platforms.flatMap((p) => merge(p).sdkIncludes));
    for (const inc of all) {
      // The TLS stack's manifest is modules/crypt/tls.json (what Moddable's own TLS examples include).
      expect(inc).toMatch(/^\$\((MODDABLE|MODULES)\)\/(.+\/manifest[a-z_]*|crypt\/tls)\.json$/);
      expect(sdkHas(inc) ?? true, `${inc} not in the Moddable SDK`).toBe(true);
    }
  });
});

it("relative imports in src/ resolve to modules the manifests define (names mirror folders)", () => {
  const moduleOf = (file: string) => relative(join(root, "src"), file).replace(/\.ts$/, "");
  const known = new Set(srcFolders().flatMap(folderModules));
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

describe("creation settings", () => {
  const esp8266 = read(join(root, "hosts/esp8266/manifest.json")).creation as any;
  const esp32 = read(join(root, "hosts/esp32/manifest.json")).creation as any;

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
