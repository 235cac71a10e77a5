import { defineConfig } from "vitest/config";
// @ts-ignore -- plain ESM module, also what apps on xsmq load as "xsmq/vitest"
import xsmq from "./sim/vitest-plugin.mjs";

export default defineConfig({
  // Bare XS specifiers resolve to the simulator's implementations, exactly as under `npm start`.
  plugins: [xsmq()],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default"],
  },
});
