// `xsmq size`: how many bytes each of the project's src/ modules and its whole app bundle take once minified
// (what XS compiles to byte code is roughly proportional), and the size of the last firmware image built.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { build, type Plugin } from "esbuild";
// @ts-ignore -- plain ESM module shared with the Node resolve hook
import { deviceModules } from "../hosts/node/xs-modules.mjs";
import { buildDir, readBuildRecord } from "./firmware.ts";
import { parseOptions } from "./options.ts";
import { requireProject, type Project } from "./project.ts";

export const help = `usage: xsmq size [--json]

Bytes of each module in the project's src/ (source, and minified by esbuild), of the app bundle (its main
module with everything it imports, xsmq's modules included, minified; XS modules such as "socket" are
external), and of the firmware image from the last \`xsmq build\`, when there is one.

  --json   print the numbers as JSON`;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** xsmq's modules imported by their Moddable names ("wifi/manager") are part of the app, not external. */
const xsmqModules: Plugin = {
  name: "xsmq-modules",
  setup(b) {
    b.onResolve({ filter: /^[a-z]+\/[a-z0-9-]+$/ }, (args) => {
      const path = (deviceModules as Record<string, string>)[args.path];
      return path ? { path } : undefined;
    });
  },
};

/** esbuild --minify of a module (alone, or bundled with what it imports): the one minifier of `xsmq size` and
 *  bench/size.bench.ts. `modules`: the source files that went in. */
export async function minify(options: { entry?: string; stdin?: string; resolveDir?: string; bundle: boolean }): Promise<{ code: Uint8Array; modules: number }> {
  const result = await build({
    ...(options.entry ? { entryPoints: [options.entry] } : { stdin: { contents: options.stdin!, resolveDir: options.resolveDir, loader: "ts" } }),
    bundle: options.bundle, minify: true, write: false, format: "esm", target: "es2022", platform: "neutral",
    packages: "external", logLevel: "silent", plugins: [xsmqModules], metafile: true,
  });
  const [out] = result.outputFiles;
  return { code: out.contents, modules: Object.keys(result.metafile.inputs).length };
}

async function minifiedBytes(options: Parameters<typeof minify>[0]): Promise<number> {
  return (await minify(options)).code.length;
}

export interface SizeReport {
  modules: { module: string; source: number; minified: number }[];
  totalMinified: number;
  bundle: { entry: string; minified: number };
  firmware?: { path: string; bytes: number }[];
}

export async function measure(project: Project): Promise<SizeReport> {
  const src = join(project.root, "src");
  const files = sourceFiles(src);
  const modules = await Promise.all(files.map(async (file) => ({
    module: relative(src, file).replace(/\.ts$/, ""),
    source: statSync(file).size,
    minified: await minifiedBytes({ entry: file, bundle: false }),
  })));
  const main = project.main;
  const bundle = main && existsSync(main)
    ? { entry: relative(src, main).replace(/\.ts$/, ""), minified: await minifiedBytes({ entry: main, bundle: true }) }
    : { entry: "all of src/", minified: await minifiedBytes({ stdin: modules.map((m, i) => `export * as m${i} from "./${m.module}";`).join("\n"), resolveDir: src, bundle: true }) };
  const record = readBuildRecord(buildDir(project));
  const firmware = record?.images.filter((i) => existsSync(i.path)).map((i) => ({ path: i.path, bytes: statSync(i.path).size }));
  return { modules, totalMinified: modules.reduce((s, m) => s + m.minified, 0), bundle, firmware: firmware?.length ? firmware : undefined };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, { json: { type: "boolean", default: false } });
  const report = await measure(requireProject());
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
    return 0;
  }
  const width = Math.max(24, ...report.modules.map((m) => m.module.length));
  const row = (name: string, source: string, min: string) => `${name.padEnd(width)}  ${source.padStart(8)}  ${min.padStart(8)}`;
  console.log(row("module", "source", "minified"));
  for (const m of report.modules) console.log(row(m.module, String(m.source), String(m.minified)));
  console.log(row("total (modules)", String(report.modules.reduce((s, m) => s + m.source, 0)), String(report.totalMinified)));
  console.log(row(`bundle: ${report.bundle.entry}`, "", String(report.bundle.minified)));
  if (report.firmware) for (const f of report.firmware) console.log(`firmware image: ${f.path}  ${f.bytes} bytes`);
  else console.log("firmware image: none yet (xsmq build)");
  return 0;
}
