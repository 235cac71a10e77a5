// A real, headless Chromium for the dashboard tests and bench: Debian's `chromium` package (installed by .ci/run)
// driven by playwright-core, which never downloads a browser of its own. CHROMIUM overrides the path.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export function chromiumPath(): string {
  const path = process.env.CHROMIUM || CANDIDATES.find((p) => existsSync(p));
  if (!path || !existsSync(path))
    throw new Error(`no Chromium found (${process.env.CHROMIUM || CANDIDATES.join(", ")}): install it with \`apt-get install -y chromium\` (bash .ci/run does) or set CHROMIUM to its path`);
  return path;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, timeout: 30_000 });
}
