// Node module-resolution hook: bare XS specifiers ("socket", "mc/config", ...) resolve to
// hosts/node/modules/*, and xsmq's device modules ("mqtt/client", ...) to src/, as a user's app imports them.
// Registered by hosts/node/register.mjs.
import { pathToFileURL } from "node:url";
import { moduleSpecifierPath } from "./xs-modules.mjs";

export async function resolve(specifier, context, next) {
  const path = moduleSpecifierPath(specifier);
  if (path !== undefined) return { url: pathToFileURL(path).href, shortCircuit: true };
  return next(specifier, context);
}
