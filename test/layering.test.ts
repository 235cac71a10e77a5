// src/ runs on XS: it may import only relative modules and the XS modules declared in types/.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { importsOf } from "./support/imports.ts";

const root = new URL("..", import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function declaredXsModules(): Set<string> {
  const names = new Set<string>();
  for (const file of files(join(root, "types")))
    for (const m of readFileSync(file, "utf8").matchAll(/declare module "([^"]+)"/g)) names.add(m[1]);
  return names;
}

describe("src/ layering", () => {
  const allowed = declaredXsModules();
  const sources = files(join(root, "src"));

  it("finds the XS module declarations and the sources", () => {
    expect(allowed.has("socket")).toBe(true);
    expect(allowed.has("timer")).toBe(true);
    expect(sources.length).toBeGreaterThan(0);
  });

  it("the import scanner catches every form (so the check below can fail)", () => {
    const sample = `import a from "fs";\nimport { b } from 'node:net';\nexport * from "mqtt";\nconst c = await import("os");\nimport "events";`;
    expect(importsOf(sample)).toEqual(["fs", "node:net", "mqtt", "os", "events"]);
  });

  it("imports only relative paths and declared XS modules", () => {
    const bad: string[] = [];
    for (const file of sources) {
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        if (spec.startsWith("./") || spec.startsWith("../")) continue;
        if (allowed.has(spec)) continue;
        bad.push(`${relative(root, file)} imports "${spec}"`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("uses no Node or DOM globals", () => {
    const banned = /\b(Buffer|process|require|setTimeout|setInterval|setImmediate|queueMicrotask|console|TextEncoder|TextDecoder|window|document)\b\s*[.(]/;
    expect(["Buffer.from(x)", "setTimeout(f, 1)", "console.log(1)", "new TextEncoder()"].every((l) => banned.test(l))).toBe(true);
    const bad: string[] = [];
    for (const file of sources) {
      // Block comments become blank lines (kept for line numbers): prose may say "window (..." freely.
      const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
      code.split("\n").forEach((line, i) => {
        const stripped = line.replace(/\/\/.*$/, "");
        if (banned.test(stripped)) bad.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(bad).toEqual([]);
  });
});

// The top-level folders (README "Layout"): arrows point one way. hosts/ stands in for platforms and knows no
// simulator; sim/ runs device code on simulated boards and knows no CLI, bench or test; nothing imports test/.
describe("top-level layering", () => {
  const never: Record<string, string[]> = {
    src: ["types", "hosts", "sim", "tools", "bench", "test", "bin"],
    hosts: ["sim", "tools", "bench", "test", "bin"],
    sim: ["tools", "bench", "test", "bin"],
    tools: ["bench", "test"],
    bench: ["test"],
  };
  const code = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return code(path);
    return /\.(ts|mjs|js)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
  /** The top-level folder each relative import of `file` lands in. */
  const targets = (file: string): { spec: string; top: string }[] =>
    importsOf(readFileSync(file, "utf8")).filter((s) => s.startsWith(".")).map((spec) => ({ spec, top: relative(root, join(file, "..", spec)).split("/")[0] }));

  it("finds the cross-folder imports it checks (so the check below can fail)", () => {
    const tops = code(join(root, "sim")).flatMap(targets).map((t) => t.top);
    expect(tops).toContain("hosts");
    expect(tops).toContain("src");
  });

  for (const [from, forbidden] of Object.entries(never)) {
    it(`${from}/ imports nothing from ${forbidden.join(", ")}`, () => {
      const bad = code(join(root, from)).flatMap((file) =>
        targets(file).filter((t) => forbidden.includes(t.top)).map((t) => `${relative(root, file)} imports "${t.spec}"`));
      expect(bad).toEqual([]);
    });
  }
});
