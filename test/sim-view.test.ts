// The live view of `xsmq sim` in a real pseudo-terminal (util-linux `script`): the rendered screen shows the
// device's Wi-Fi, MQTT, readings, feed values and counters, and key presses change what it shows.
import { describe, it, expect, afterEach } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { until } from "./support/wait.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
let proc: ChildProcess | undefined;

afterEach(() => {
  if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  proc = undefined;
});

/** A terminal session: everything written to it, and the last full frame as plain text lines. */
function startInPty(args: string) {
  const p = spawn("script", ["-qfec", `stty cols 80 rows 24; exec node bin/xsmq.js sim ${args}`, "/dev/null"], {
    cwd: root, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, TERM: "xterm" },
  });
  proc = p;
  let raw = "";
  p.stdout!.on("data", (d) => { raw += d.toString("utf8"); });
  p.stderr!.on("data", (d) => { raw += d.toString("utf8"); });
  const screen = () => {
    // Each redraw starts with cursor-home; the last complete one is what the terminal shows.
    const frames = raw.split("\x1b[H");
    const frame = frames.length > 2 ? frames[frames.length - 2] : frames[frames.length - 1];
    return frame.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").split(/\r*\n/).map((l) => l.trimEnd());
  };
  const text = () => screen().join("\n");
  return { p, raw: () => raw, screen, text, press: (key: string) => p.stdin!.write(key) };
}

describe("xsmq sim live view", () => {
  it("shows Wi-Fi, MQTT, readings, feeds and counters, and reacts to keys", async () => {
    const t = startInPty("--duration 25 --interval 1");
    const seen = (what: string, re: RegExp, ms = 8000) => until(`${what} on screen:\n${t.text()}`, () => re.test(t.text()), ms);

    await seen("Wi-Fi connected with an IP", /Wi-Fi\s+connected\s+ssid xsmq-sim\s+IP 192\.168\.\d+\.\d+/);
    await seen("MQTT connected", /MQTT\s+connected\s+reconnects 0\s+queue \d+\s+errors 0/);
    await seen("a reading sent and acknowledged", /Sent\s+reading \d+\s+published [1-9]\d*\s+delivered [1-9]/);
    await seen("feed values from the broker", /Feeds\s+onoff OFF \(LED off\)\s+slider 50\s+time \d{10}\s+received [1-9]/);
    await seen("byte counters", /Net\s+in [1-9]\d* B\s+out [1-9]\d* B\s+connects 1/);
    const lines = t.screen();
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(t.text()).toMatch(/w drop Wi-Fi/);
    expect(t.text()).toMatch(/-- trace -+\n.*Wi-Fi: connected/s);

    // The dashboard toggles onoff: the device receives it and drives its LED.
    t.press("o");
    await seen("LED switched on by the onoff feed", /onoff ON\s+\(LED on\)/);
    t.press(">");
    await seen("slider moved to 60", /slider 60\b/);

    // Drop Wi-Fi: the station loses its IP, the path goes down, MQTT drops; then everything comes back.
    t.press("w");
    await seen("Wi-Fi down", /Wi-Fi\s+(lost|connecting|idle|waiting)\b/);
    expect(t.text()).toMatch(/Link\s+DOWN/);
    await seen("MQTT offline after the drop", /MQTT\s+(offline|connecting)/);
    await seen("reconnected after the AP came back", /MQTT\s+connected\s+reconnects [1-9]/, 15000);

    // Kill the TCP connection: one more reconnect.
    const before = Number(/reconnects (\d+)/.exec(t.text())![1]);
    t.press("k");
    await seen("reconnect after a TCP reset", new RegExp(`MQTT\\s+connected\\s+reconnects ${before + 1}\\b`), 8000);

    t.press("q");
    await until("the view to exit after q", () => t.p.exitCode !== null, 5000);
    expect(t.p.exitCode).toBe(0);
    expect(t.raw()).toContain("\x1b[?1049l"); // the terminal was restored
    expect(t.raw()).toMatch(/summary: 1\/1 connected/);
  }, 40_000);
});
