// `xsmq monitor` against a fake board running firmware on a pty: output is timestamped, trace lines and
// XS exceptions are marked, typed keys reach the board, Ctrl-R asks for a reset and Ctrl-] quits.
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { startFakeBoard, type FakeBoard } from "./support/fake-esp/pty.ts";
import { xsmqBin } from "./support/fake-esp/run-cli.ts";
import { classify, RecordSplitter } from "../tools/monitor-lines.ts";

let board: FakeBoard | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = undefined;
  await board?.close();
  board = undefined;
});

function waitFor(read: () => string, pattern: RegExp, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (pattern.test(read())) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${pattern}; got:\n${read()}`));
      else setTimeout(tick, 25);
    };
    tick();
  });
}

describe("xsmq monitor", () => {
  it("shows timestamped output, marks trace and exceptions, forwards keys, resets on request, quits on Ctrl-]", async () => {
    board = await startFakeBoard({ startInApp: true });
    child = spawn(process.execPath, [xsmqBin, "monitor", "--port", board.path], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout!.on("data", (d) => { stdout += d; });
    child.stderr!.on("data", (d) => { stderr += d; });
    const exited = new Promise<number | null>((r) => child!.on("close", r));
    await waitFor(() => stderr, /Monitoring .* Ctrl-\] quits/);

    board.esp.print("Wi-Fi connecting\r\n");
    board.esp.print("<xsbug><log>connected to broker</log></xsbug>\r\n");
    board.esp.print('<xsbug><log path="src/app/main.ts" line="42"># Exception: publish: not connected!\n</log></xsbug>\r\n');
    board.esp.print("last words without newline");
    await waitFor(() => stdout, /ERROR src\/app\/main\.ts:42: Exception: publish: not connected/);

    child.stdin!.write("ping\r");
    await waitFor(() => board!.esp.appInput.toString(), /ping\r/);
    child.stdin!.write(Buffer.from([0x12])); // Ctrl-R: a pty has no RTS line, so the monitor must say so
    await waitFor(() => stderr, /cannot reset: .* has no DTR\/RTS lines/);
    child.stdin!.write(Buffer.from([0x1d])); // Ctrl-]
    expect(await exited).toBe(0);

    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {7}Wi-Fi connecting$/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} trace connected to broker$/);
    expect(lines[2]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR src\/app\/main\.ts:42: Exception: publish: not connected$/);
    expect(lines[3]).toMatch(/last words without newline$/);
    expect(board.esp.appInput.includes(0x12)).toBe(false); // control keys are not sent to the board
  });

  it("names a missing port", async () => {
    child = spawn(process.execPath, [xsmqBin, "monitor", "--port", "/dev/ttyNOPE7"], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => { stderr += d; });
    const code = await new Promise<number | null>((r) => child!.on("close", r));
    expect(code).toBe(1);
    expect(stderr).toContain("no such serial port: /dev/ttyNOPE7");
  });
});

describe("monitor line classification", () => {
  it("splits xsbug frames that span lines from plain lines", () => {
    const records: string[] = [];
    const s = new RecordSplitter((r) => records.push(r));
    s.push("boot\r\nhello<xsbug><log># Excep");
    s.push("tion: x!\n</log></xsbug>\r\nbye\n");
    expect(records).toEqual(["boot\r\n", "hello", "<xsbug><log># Exception: x!\n</log></xsbug>", "bye\n"]);
    expect(records.map((r) => classify(r).kind)).toEqual(["text", "text", "exception", "text"]);
  });

  it("recognises release-build and crash output, and hides xsbug protocol frames", () => {
    expect(classify("Fatal exception (28):\n").kind).toBe("exception");
    expect(classify("XS abort: out of memory\n").kind).toBe("exception");
    expect(classify('<xsbug><login name="main" value="XS"/></xsbug>').kind).toBe("protocol");
    expect(classify("<xsbug><log>a &lt;b&gt; &amp; c</log></xsbug>")).toEqual({ kind: "trace", text: "a <b> & c" });
  });
});
