#!/usr/bin/env node
// Entry point of the `xsmq` CLI: sets up TypeScript loading and the XS module map, then runs tools/cli.ts.
import "../hosts/node/register.mjs";
const { main } = await import("../tools/cli.ts");
process.exitCode = await main(process.argv.slice(2));
