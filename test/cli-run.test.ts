// `xsmq run`: its errors without an SDK or for a board platform, and which runtime lines it shows. The run itself,
// on Moddable's lin runtime, is in test/moddable-sdk.test.ts (it needs $MODDABLE).
import { describe, expect, it } from "vitest";
import { runCli } from "./support/fake-esp/run-cli.ts";
import { isTraceLine } from "../tools/run.ts";

const env = (extra: Record<string, string>) => {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete e.MODDABLE;
  return e;
};

describe("xsmq run", () => {
  it("runs lin only, and says how to put the app on a board instead", async () => {
    const r = await runCli(["run", "--platform", "esp8266"], { env: env({}) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('xsmq run runs the lin platform only (not "esp8266")');
    expect(r.stderr).toContain("xsmq build --platform esp8266, then xsmq flash and xsmq monitor");
  });

  it("without $MODDABLE: names the SDK and how to install it, before starting anything", async () => {
    const r = await runCli(["run", "--platform", "lin", "--duration", "1"], { env: env({}) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot run on lin: missing the Moddable SDK ($MODDABLE is not set)");
    expect(r.stdout).toBe("");
  });

  it("rejects a broker that is not mqtt://host:port, a bad interval and a bad rate limit", async () => {
    const bad = await runCli(["run", "--broker", "http://x"], { env: env({}) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--broker http://x: expected mqtt://host:port");
    const interval = await runCli(["run", "--interval", "0"], { env: env({}) });
    expect(interval.code).toBe(2);
    expect(interval.stderr).toContain("--interval 0: expected seconds > 0");
    const rate = await runCli(["run", "--rate-limit", "0.5"], { env: env({}) });
    expect(rate.code).toBe(2);
    expect(rate.stderr).toContain("--rate-limit 0.5: expected a whole number >= 1");
  });

  it("shows the device's trace but not the debug build's instrumentation samples", () => {
    expect(isTraceLine("photocell: 512")).toBe(true);
    expect(isTraceLine("MQTT: connected to 127.0.0.1:1883 as xsmq-1")).toBe(true);
    expect(isTraceLine("instruments key: Pixels drawn,Frames drawn")).toBe(false);
    expect(isTraceLine("instruments: 0,0,0,0,0,2,0")).toBe(false);
  });
});
