// A real, headless Chromium for the dashboard's tests and bench (not used by `xsmq sim`; playwright-core is a
// devDependency): Debian's `chromium` package (installed by .ci/run) driven by playwright-core, which never
// downloads a browser of its own. CHROMIUM overrides the path.
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

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

// Code run in the page is written as JavaScript text: our TypeScript programs have no DOM types.

/** The text of element #id, as a page expression. */
export const textOf = (id: string) => `(document.getElementById(${JSON.stringify(id)})?.textContent ?? "")`;

/**
 * Resolves when `expression` is truthy in the page; fails after `timeout` ms saying which expression it was. Asked
 * over the DevTools protocol (page.evaluate), which the page's Content-Security-Policy (no eval) does not block.
 */
export async function inPage(page: Page, expression: string, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`page never had ${expression} within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves when the text of #id matches `re`. */
export function waitText(page: Page, id: string, re: RegExp, timeout?: number): Promise<void> {
  return inPage(page, `${re}.test(${textOf(id)})`, timeout);
}
