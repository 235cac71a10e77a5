import { defineConfig } from "vitest/config";
// @ts-ignore -- plain ESM module shared with the Node resolve hook
import { xsModules, xsModulePath } from "./hosts/node/xs-modules.mjs";

// Bare XS specifiers resolve to the simulator's implementations, exactly as under `npm start`.
const alias = Object.keys(xsModules as Record<string, string>).map((name) => ({
  find: new RegExp(`^${name.replace(/[/:]/g, (c) => "\\" + c)}$`),
  replacement: (xsModulePath as (s: string) => string)(name),
}));

export default defineConfig({
  resolve: { alias },
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["hosts/node/globals.ts", "sim/board/default.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default"],
  },
});
