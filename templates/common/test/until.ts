// Waits for something the simulated board does: polls `check` until it holds, failing after `ms` of real time.
export async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !check(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
  }
}
