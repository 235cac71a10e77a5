// The `xsmq` dispatcher (help, unknown commands), `xsmq size` and `xsmq doctor`, run as real processes.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./support/fake-esp/run-cli.ts";

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe("xsmq dispatcher", () => {
  it("--help lists every command", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["build", "flash", "monitor", "size", "doctor", "sim"]) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
  });

  it("each command has its own --help", async () => {
    for (const c of ["build", "flash", "monitor", "size", "doctor"]) {
      const r = await runCli([c, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`usage: xsmq ${c}`);
    }
  });

  it("an unknown command is an error that shows the list", async () => {
    const r = await runCli(["flsh"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "flsh"');
    expect(r.stderr).toContain("flash");
  });

  it("an unknown option is an error with the command's help", async () => {
    const r = await runCli(["flash", "--prot", "/dev/ttyUSB0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--prot");
    expect(r.stderr).toContain("usage: xsmq flash");
  });
});

describe("xsmq size", () => {
  it("reports each src module, totals that add up, the bundle, and the firmware image when one was built", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xsmq-size-"));
    dirs.push(dir);
    writeFileSync(join(dir, "main.bin"), Buffer.alloc(12345));
    writeFileSync(join(dir, "xsmq-images.json"), JSON.stringify({ platform: "esp8266", images: [{ address: 0x1000, path: join(dir, "main.bin") }] }));
    const r = await runCli(["size", "--json"], { env: { ...process.env, XSMQ_BUILD_DIR: dir } });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.modules.map((m: { module: string }) => m.module)).toContain("mqtt/errors");
    for (const m of report.modules) expect(m.source).toBeGreaterThan(0);
    expect(report.totalMinified).toBe(report.modules.reduce((s: number, m: { minified: number }) => s + m.minified, 0));
    expect(report.bundle.minified).toBeGreaterThan(0);
    expect(report.firmware).toEqual([{ path: join(dir, "main.bin"), bytes: 12345 }]);

    const table = await runCli(["size"], { env: { ...process.env, XSMQ_BUILD_DIR: dir } });
    expect(table.stdout).toMatch(/^mqtt\/errors\s+\d+\s+\d+$/m);
    expect(table.stdout).toContain("main.bin  12345 bytes");
  });
});

describe("xsmq doctor", () => {
  it("says OK for Node, WARNs with install steps for a missing SDK, and exits 0 when nothing fails", async () => {
    const env = { ...process.env };
    delete env.MODDABLE;
    const r = await runCli(["doctor"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK {3}Node: v\d+/m);
    expect(r.stdout).toMatch(/^WARN Moddable SDK: missing the Moddable SDK/m);
    expect(r.stdout).toContain("git clone https://github.com/Moddable-OpenSource/moddable");
    expect(r.stdout).not.toMatch(/^FAIL/m);
  });

  it("reports mosquitto and socat as missing when they are not on PATH", async () => {
    const r = await runCli(["doctor"], { env: { ...process.env, PATH: "/nonexistent" } });
    expect(r.stdout).toMatch(/^WARN socat \(tests\): not installed/m);
    expect(r.stdout).toContain("apt-get install socat");
  });
});
