// Finds the firmware the simulator runs: the example app src/app/main.ts (default export `main(): App`),
// or, while that file does not exist yet, the stand-in next to this file.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { App } from "../../../src/app/status.ts";

export interface AppEntry { main: () => App; source: string }

export async function loadApp(): Promise<AppEntry> {
  const real = new URL("../../../src/app/main.ts", import.meta.url);
  if (existsSync(fileURLToPath(real))) {
    const mod = (await import(real.href)) as { default: () => App };
    if (typeof mod.default !== "function") throw new Error("src/app/main.ts must default-export main(): App");
    return { main: mod.default, source: "src/app/main.ts" };
  }
  const mod = await import("./standin-app.ts");
  return { main: mod.default, source: "hosts/node/sim/standin-app.ts (src/app/main.ts not found)" };
}
