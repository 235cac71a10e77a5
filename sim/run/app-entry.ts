// Finds the firmware the simulator runs: a module whose default export is `main(): App` (the example app
// src/app/main.ts unless told otherwise). A file that is missing or does not load is an error that says why.
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import type { App } from "../../src/app/status.ts";

export interface AppEntry {
  main: () => App;
  /** Short name for titles, e.g. "src/app/main.ts". */
  source: string;
}

const exampleApp = new URL("../../src/app/main.ts", import.meta.url);

/** Loads `file` (default: the example app); throws an Error naming the file and what is wrong with it. */
export async function loadApp(file?: string): Promise<AppEntry> {
  const url = file ? pathToFileURL(resolve(file)) : exampleApp;
  const source = file ?? "src/app/main.ts";
  if (!existsSync(url)) throw new Error(`${source} does not exist: give the firmware's main module (default export main(): App)`);
  let mod: { default?: () => App };
  try {
    mod = (await import(url.href)) as { default?: () => App };
  } catch (e) {
    throw new Error(`${source} failed to load: ${(e as Error).message.split("\n")[0]}`);
  }
  if (typeof mod.default !== "function") throw new Error(`${source} does not default-export main(): App`);
  return { main: mod.default, source };
}
