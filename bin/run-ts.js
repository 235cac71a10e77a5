#!/usr/bin/env node
// Runs one TypeScript file with the simulator's XS modules: `node bin/run-ts.js bench/index.ts args...`.
import "../hosts/node/register.mjs";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
const [file, ...rest] = process.argv.slice(2);
if (!file) { console.error("usage: run-ts.js FILE.ts [args...]"); process.exit(2); }
process.argv = [process.argv[0], resolve(file), ...rest];
await import(pathToFileURL(resolve(file)).href);
