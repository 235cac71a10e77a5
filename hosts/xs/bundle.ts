// Bundles TypeScript for the XS engine with esbuild: one ES2022 script, no Node shims, XS module specifiers
// (`socket`, `timer`, ...) mapped to hosts/xs/modules; anything a board cannot load fails the build, loudly.
import { build, type Plugin } from "esbuild";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import type { HostConfig } from "./modules/host-config.ts";

const modulesDir = fileURLToPath(new URL("./modules/", import.meta.url));

/** XS module specifiers that have an implementation running inside XS. */
export const xsHostModules: Record<string, string> = {
  socket: "socket.ts",
  timer: "timer.ts",
  time: "time.ts",
  "embedded:io/socket/tcp": "tcp.ts",
  wifi: "wifi.ts",
  net: "net.ts",
  preference: "preference.ts",
  "pins/analog": "analog.ts",
  "pins/digital": "digital.ts",
  securesocket: "securesocket.ts",
  Resource: "resource.ts",
};

const hostConfigPath = resolve(modulesDir, "host-config.ts");

export interface BundleOptions {
  /** Values seen by `import config from "mc/config"`. */
  config?: Record<string, string | number | boolean>;
  minify?: boolean;
  /** Include the bridge to the Node side and the call server (default). false: the entry alone, XS specifiers external. */
  host?: boolean;
  /** What hosts/xs/modules/host-config.ts exports in this bundle (XSHost.start sets it). */
  hostConfig?: HostConfig;
  /** XS module specifiers served by other files (paths from the working directory), e.g. in-memory fakes for benches. */
  modules?: Record<string, string>;
}

export interface Bundle {
  code: string;
  /** Files that went in, relative to the working directory, with their bytes in the output. */
  inputs: Record<string, number>;
}

export class XSBundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XSBundleError";
  }
}

function xsModulesPlugin(options: BundleOptions): Plugin {
  const host = options.host !== false;
  return {
    name: "xs-modules",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        const spec = args.path;
        if (spec === "mc/config") return { path: spec, namespace: "xs-config" };
        const replaced = options.modules?.[spec];
        if (replaced !== undefined) return { path: resolve(replaced) };
        if (spec in xsHostModules) {
          return host ? { path: resolve(modulesDir, xsHostModules[spec]) } : { path: spec, external: true };
        }
        return { errors: [{ text: `"${spec}" is not available on XS (only relative imports and XS modules can load on a board)` }] };
      });
      if (options.hostConfig) {
        const contents = `export default ${JSON.stringify(options.hostConfig)};`;
        b.onLoad({ filter: /host-config\.ts$/ }, (args) => (args.path === hostConfigPath ? { contents, loader: "js" } : undefined));
      }
      b.onLoad({ filter: /.*/, namespace: "xs-config" }, () => ({
        contents: `export default Object.freeze(${JSON.stringify(options.config ?? {})});`,
        loader: "js",
      }));
    },
  };
}

async function run(contents: string, resolveDir: string, options: BundleOptions): Promise<Bundle> {
  let result;
  try {
    result = await build({
      stdin: { contents, resolveDir, sourcefile: "xs-entry.ts", loader: "ts" },
      bundle: true,
      write: false,
      // A script for the worker's eval; without the host, an ES module whose XS imports stay imports.
      format: options.host === false ? "esm" : "iife",
      platform: "neutral",
      target: "es2022",
      minify: options.minify ?? false,
      legalComments: "none",
      // Modules are strict on a board: a write to a frozen property must throw here too, not fail silently.
      banner: { js: '"use strict";' },
      metafile: true,
      logLevel: "silent",
      plugins: [xsModulesPlugin(options)],
    });
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
    if (!errors) throw e;
    throw new XSBundleError(
      "cannot bundle for XS:\n" + errors.map((m) => `  ${m.location ? `${m.location.file}:${m.location.line}: ` : ""}${m.text}`).join("\n"),
    );
  }
  const output = Object.values(result.metafile.outputs)[0];
  const inputs: Record<string, number> = {};
  for (const [file, info] of Object.entries(output?.inputs ?? {})) inputs[file] = info.bytesInOutput;
  return { code: result.outputFiles[0].text, inputs };
}

/**
 * One script for xsnap: the bridge first (it hides xsnap's extras and installs `trace`), then the entry,
 * whose exported functions the Node side can call.
 */
export function bundleForXS(entry: string, options: BundleOptions = {}): Promise<Bundle> {
  const path = JSON.stringify(resolve(entry));
  const contents = options.host === false
    ? `export * from ${path};`
    : [
        `import ${JSON.stringify(resolve(modulesDir, "bridge.ts"))};`,
        `import { serveCalls } from ${JSON.stringify(resolve(modulesDir, "calls.ts"))};`,
        `import * as entry from ${path};`,
        `serveCalls(entry);`,
      ].join("\n");
  return run(contents, process.cwd(), options);
}
