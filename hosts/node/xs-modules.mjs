// The one map from XS module specifiers (as src/ imports them) to their Node implementations.
// Used by vitest.config.ts (aliases) and by hosts/node/register.mjs (a Node resolve hook),
// so tests, `npm start` and the CLI resolve `import Timer from "timer"` the same way.
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
};

/** Absolute file path of the Node implementation of an XS module, or undefined. */
export function xsModulePath(specifier) {
  const file = xsModules[specifier];
  return file === undefined ? undefined : fileURLToPath(new URL(file, here));
}

/** file: URL of the Node implementation of an XS module, or undefined. */
export function xsModuleURL(specifier) {
  const file = xsModules[specifier];
  return file === undefined ? undefined : new URL(file, here).href;
}
