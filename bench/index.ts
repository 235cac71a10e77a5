// `npm run bench`: runs every bench/*.bench.ts (or those named on the command line), prints a table
// and merges the figures into bench/results.json as { "name": { "value": n, "unit": "..." } }.
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";

export interface Figure { value: number; unit: string; note?: string }
export type Figures = Record<string, Figure>;
/** Each bench module's default export. */
export type Bench = () => Promise<Figures>;

const dir = fileURLToPath(new URL(".", import.meta.url));
const resultsPath = join(dir, "results.json");
const only = process.argv.slice(2);
const modules = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const results: Figures = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, "utf8")) : {};
let failed = 0;
for (const file of modules) {
  process.stderr.write(`bench: ${file} ...\n`);
  try {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default: Bench };
    const figures = await mod.default();
    Object.assign(results, figures);
    for (const [name, f] of Object.entries(figures))
      console.log(`${name.padEnd(44)} ${formatValue(f.value).padStart(14)} ${f.unit}${f.note ? `  (${f.note})` : ""}`);
  } catch (e) {
    failed++;
    console.error(`bench: ${file} failed: ${(e as Error).stack ?? e}`);
  }
}
writeFileSync(resultsPath, JSON.stringify(results, null, 2) + "\n");
console.log(`\nwrote ${resultsPath}`);
process.exit(failed ? 1 : 0);

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 3 : 1);
}
