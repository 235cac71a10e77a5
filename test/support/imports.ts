// What a source file imports, read from its text: every `import ... from`, `export ... from`, `import("...")` and
// bare `import "..."` specifier. The layering tests and the manifest checks use it.
const importPattern = /(?:^|[;\s])(?:import|export)\s[^"']*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;

export function importsOf(source: string): string[] {
  return [...source.matchAll(importPattern)].map((m) => m[1] ?? m[2] ?? m[3]);
}
