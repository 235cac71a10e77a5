// Finds the firmware the simulator runs: the example app src/app/main.ts (default export `main(): App`).
// While that file is missing or does not load, the stand-in next to this file runs instead, and says why.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { App } from "../../../src/app/status.ts";

export interface AppEntry {
  main: () => App;
  /** Short name for titles: "src/app/main.ts" or "the stand-in app". */
  source: string;
  /** Why the real app is not running, when it is not. */
  warning?: string;
}

export async function loadApp(): Promise<AppEntry> {
  const real = new URL("../../../src/app/main.ts", import.meta.url);
  let warning = "src/app/main.ts does not exist yet";
  if (existsSync(fileURLToPath(real))) {
    try {
      const mod = (await import(real.href)) as { default?: () => App };
      if (typeof mod.default === "function") return { main: mod.default, source: "src/app/main.ts" };
      warning = "src/app/main.ts does not default-export main(): App";
    } catch (e) {
      warning = `src/app/main.ts failed to load: ${(e as Error).message.split("\n")[0]}`;
    }
  }
  const mod = await import("./standin-app.ts");
  return { main: mod.default, source: "the stand-in app", warning };
}
