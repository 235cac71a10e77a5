// `xsmq sim` as a real process without a terminal: the JSON summary, the plain log lines, a small fleet,
// and option errors.
import { describe, it, expect } from "vitest";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

function xsmq(args: string[], timeoutMs = 25_000) {
  return xsmqEnv(args, {}, timeoutMs);
}

function xsmqEnv(args: string[], env: Record<string, string>, timeoutMs = 25_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["bin/xsmq.js", "sim", ...args], {
      cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, AIO_USERNAME: "", AIO_KEY: "", ...env },
    });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => { stdout += d; });
    p.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill("SIGKILL"); reject(new Error(`xsmq sim ${args.join(" ")} did not exit in ${timeoutMs} ms:\n${stdout}\n${stderr}`)); }, timeoutMs);
    p.on("exit", (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe("xsmq sim without a terminal", () => {
  it("--duration 5 --json exits 0 with one JSON summary: readings published and feed messages received", async () => {
    const r = await xsmq(["--duration", "5", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const s = JSON.parse(lines[0]);
    expect(s.published).toBeGreaterThan(0);
    expect(s.received).toBeGreaterThan(0);
    expect(s.errors).toBe(0);
    expect(s.reconnects).toBe(0);
    expect(s.connected).toBe(1);
    // Every reading the app published was seen stored by the local broker.
    expect(s.delivered).toBeGreaterThan(0);
    expect(s.arrived).toBeGreaterThanOrEqual(s.delivered);
    expect(s.arrived).toBeLessThanOrEqual(s.published);
    expect(s.bytesIn).toBeGreaterThan(0);
    // The log went to stderr, timestamped.
    expect(r.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} esp8266 mqtt connected$/m);
  });

  it("prints timestamped log lines: Wi-Fi, MQTT, readings, feed values, then a summary", async () => {
    const r = await xsmq(["--duration", "4", "--interval", "1"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} /);
    expect(r.stdout).toMatch(/esp8266 wifi connected ip 192\.168\.\d+\.\d+ ssid xsmq-sim/);
    expect(r.stdout).toMatch(/esp8266 mqtt connected/);
    expect(r.stdout).toMatch(/esp8266 published reading \d+ \(published [1-9]/);
    expect(r.stdout).toMatch(/esp8266 slider 50/);
    expect(lines[lines.length - 1]).toMatch(/^summary: 1\/1 connected, .*published [1-9]\d*, arrived [1-9]\d*/);
    expect(r.stdout).not.toContain("\x1b[");
  });

  it("--devices 20 runs a fleet: each device its own user and client, all connected, every reading tracked", async () => {
    const r = await xsmq(["--devices", "20", "--duration", "6", "--interval", "1", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.devices).toBe(20);
    expect(s.connected).toBe(20);
    expect(s.published).toBeGreaterThanOrEqual(20);
    expect(s.arrived).toBeGreaterThanOrEqual(s.delivered);
    expect(s.latencyP50Ms).toBeGreaterThanOrEqual(0);
    expect(s.latencyP99Ms).toBeGreaterThanOrEqual(s.latencyP50Ms);
    expect(r.stderr).toMatch(/connecting \[[#.]+\] \d+\/20/);
  });

  it("--broker runs the device against a real broker (mosquitto with a password), watched by a monitor", async () => {
    const m = await Mosquitto.start({ users: { maker: "s3cret" } });
    try {
      // A wrong key: mosquitto refuses the monitor and the device alike; the device still runs, and what its app
      // makes of the refusal is shown, not only the monitor's error.
      const r = await xsmqEnv(["--broker", m.url, "--duration", "5", "--json"], { AIO_USERNAME: "maker", AIO_KEY: "wrong" });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/monitor: .*[Nn]ot authorized: readings are not tracked/);
      expect(r.stderr).toMatch(/esp8266 \| app: Adafruit IO refused the key for user maker: check AIO_KEY \(CONNACK 5/);
      expect(r.stderr).toMatch(/esp8266 error Adafruit IO refused the key/);
      expect(r.stderr).not.toContain("wrong");
      const refused = JSON.parse(r.stdout);
      expect(refused.connected).toBe(0);
      expect(refused.errors).toBeGreaterThan(0);
      expect(refused.arrived).toBeUndefined();
      const env = { AIO_USERNAME: "maker", AIO_KEY: "s3cret" };
      const ok = await xsmqEnv(["--broker", m.url, "--duration", "5", "--interval", "1", "--json"], env);
      expect(ok.code, ok.stderr).toBe(0);
      const t = JSON.parse(ok.stdout);
      expect(t.connected).toBe(1);
      expect(t.published).toBeGreaterThan(1);
      // The monitoring subscriber saw the readings arrive through mosquitto.
      expect(t.arrived).toBeGreaterThanOrEqual(t.published - 1);
      expect(ok.stderr).toContain(`broker ${m.url}, user maker`);
    } finally {
      await m.close();
    }
  });

  it("refuses bad options with exit code 2 and says why", async () => {
    const b = await xsmq(["--broker", "http://example.com"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/expected mqtt:\/\/host:port/);
  });

  it("parses numbers one way: a negative value reads the same with or without =, a non-number and 0 agree on the range", async () => {
    const spaced = await xsmq(["--duration", "-1"]);
    const joined = await xsmq(["--duration=-1"]);
    for (const r of [spaced, joined]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toBe("xsmq sim: --duration -1: expected seconds > 0\n  Leave --duration out to run until you stop it (q or Ctrl-C).\n");
    }
    const zero = await xsmq(["--duration", "0"]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain("--duration 0: expected seconds > 0");
    for (const value of ["abc", "0", "1.5"]) {
      const r = await xsmq(["--devices", value]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--devices ${value}: expected a whole number of devices >= 1`);
    }
    const interval = await xsmq(["--interval", "-2"]);
    expect(interval.stderr).toContain("--interval -2: expected seconds > 0");
  });
});
