// Node module-resolution hook: bare XS specifiers ("socket", "mc/config", ...) resolve to
// hosts/node/modules/*. Registered by hosts/node/register.mjs.
import { xsModuleURL } from "./xs-modules.mjs";

export async function resolve(specifier, context, next) {
  const url = xsModuleURL(specifier);
  if (url !== undefined) return { url, shortCircuit: true };
  return next(specifier, context);
}
