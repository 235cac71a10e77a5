// The one map from XS module specifiers (as src/ imports them) to their Node implementations.
// Used by vitest.config.ts (aliases) and by hosts/node/register.mjs (a Node resolve hook),
// so tests, `npm start` and the CLI resolve `import Timer from "timer"` the same way.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = new URL("./modules/", import.meta.url);

export const xsModules = {
  "socket": "socket.ts",
  "timer": "timer.ts",
  "time": "time.ts",
  "wifi": "wifi.ts",
  "net": "net.ts",
  "preference": "preference.ts",
  "mc/config": "config.ts",
  "pins/analog": "analog.ts",
  "pins/digital": "digital.ts",
  "embedded:io/socket/tcp": "tcp.ts",
  "securesocket": "securesocket.ts",
  "Resource": "resource.ts",
};

/** Absolute file path of the Node implementation of an XS module, or undefined. */
export function xsModulePath(specifier) {
  const file = xsModules[specifier];
  return file === undefined ? undefined : fileURLToPath(new URL(file, here));
}

// xsmq's own device modules by their Moddable names ("mqtt/client" is src/mqtt/client.ts), as an app outside
// this package imports them (its manifest includes src/<folder>/manifest.json, which names them so).
const src = new URL("../../src/", import.meta.url);
export const deviceModules = Object.fromEntries(
  readdirSync(src, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) =>
    readdirSync(new URL(`${d.name}/`, src)).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
      .map((f) => [`${d.name}/${f.slice(0, -3)}`, fileURLToPath(new URL(`${d.name}/${f}`, src))])),
);

/** Absolute path of what a bare specifier names: an XS module's stand-in or one of xsmq's device modules. */
export function moduleSpecifierPath(specifier) {
  return xsModulePath(specifier) ?? (Object.hasOwn(deviceModules, specifier) ? deviceModules[specifier] : undefined);
}
