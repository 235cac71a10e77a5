// Vitest plugin for apps on xsmq (`import xsmq from "xsmq/vitest"`; this repository's vitest.config.ts uses it
// too): bare XS specifiers ("timer", "pins/analog"...) resolve to the simulator's stand-ins and xsmq's device
// modules ("mqtt/client", "wifi/manager"...) to its sources, as under `xsmq sim`; xsmq's TypeScript goes through
// Vite (Node 20 cannot load .ts from node_modules); `trace` and a default simulated board are set up per test file.
import { fileURLToPath } from "node:url";
import { deviceModules, xsModules, moduleSpecifierPath } from "../hosts/node/xs-modules.mjs";

const file = (path) => fileURLToPath(new URL(path, import.meta.url));

export default function xsmq() {
  return {
    name: "xsmq",
    config() {
      // Aliases, not resolveId: Vite takes "net" for Node's built-in before any plugin could resolve it.
      const alias = [...Object.keys(xsModules), ...Object.keys(deviceModules)].map((name) => ({
        find: new RegExp(`^${name.replace(/[/:.-]/g, (c) => "\\" + c)}$`),
        replacement: moduleSpecifierPath(name),
      }));
      return {
        resolve: { alias },
        test: {
          setupFiles: [file("../hosts/node/globals.ts"), file("./board/default.ts")],
          server: { deps: { inline: [/[\\/]node_modules[\\/]xsmq[\\/]/] } },
        },
      };
    },
  };
}
