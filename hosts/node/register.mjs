// Makes Node run our TypeScript (through tsx) and resolve XS module specifiers to the simulator's
// implementations. Import this first: `node --import ./hosts/node/register.mjs file.ts`.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

register("./resolve-hook.mjs", import.meta.url);
registerTsx();
await import("./globals.ts");
