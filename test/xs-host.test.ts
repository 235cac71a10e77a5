// The XS host itself: the real xsnap-worker starts and evaluates, bundles see a board's globals, timers and
// the socket bridge behave like Moddable's, and what a board lacks or cannot afford fails loudly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:net";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XSWorker, checkWorker, XSWorkerMissingError } from "../hosts/xs/worker.ts";
import { XSHost, XSBudgetError } from "../hosts/xs/runner.ts";
import { bundleForXS, XSBundleError } from "../hosts/xs/bundle.ts";

const entry = "hosts/xs/entries/basics.ts";

describe("xsnap-worker", () => {
  it("evaluates scripts and answers issueCommand from XS", async () => {
    const worker = await XSWorker.start({ onCommand: (r) => Uint8Array.from(r).reverse() });
    try {
      const sum = await worker.evaluate("new Uint8Array([40 + 2]).buffer");
      expect([...sum.reply]).toEqual([42]);
      expect(sum.meter.currentHeapCount).toBeGreaterThan(0);
      const echoed = await worker.evaluate("new Uint8Array(issueCommand(new Uint8Array([1, 2, 3]).buffer)).slice().buffer");
      expect([...echoed.reply]).toEqual([3, 2, 1]);
      await expect(worker.evaluate("throw new TypeError('nope')")).rejects.toThrow(/TypeError: nope/);
      // The machine survives an exception.
      expect([...(await worker.evaluate("new Uint8Array([7]).buffer")).reply]).toEqual([7]);
    } finally {
      await worker.close();
    }
  });

  it("a missing engine binary says what to run", () => {
    let error: unknown;
    try { checkWorker("/nonexistent/xsnap-worker"); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(XSWorkerMissingError);
    expect((error as Error).message).toMatch(/npm rebuild @agoric\/xsnap/);
    expect((error as Error).message).toMatch(/allowScripts/);
    expect((error as Error).message).toMatch(/build-essential/);
  });

  it("a runaway script is stopped by the metering limit, not a hung test", async () => {
    const worker = await XSWorker.start({ meteringLimit: 1_000_000 });
    try {
      await expect(worker.evaluate("for (;;) {}")).rejects.toThrow(/too much computation/);
    } finally {
      await worker.close();
    }
  });
});

describe("XS host", () => {
  let xs: XSHost;
  let echo: Server;
  let echoPort = 0;

  beforeAll(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    echoPort = (echo.address() as { port: number }).port;
    xs = await XSHost.start({ entry, config: { broker: "mqtt://127.0.0.1", port: "1883" } });
  });

  afterAll(async () => {
    await xs?.close();
    await new Promise((r) => echo?.close(r));
  });

  it("bundled code sees a board's globals, not xsnap's or Node's", async () => {
    const g = await xs.call<Record<string, string>>("globals");
    expect(g).toMatchObject({
      trace: "function", "ArrayBuffer.fromString": "function", "String.fromArrayBuffer": "function",
      console: "undefined", setTimeout: "undefined", TextEncoder: "undefined", Buffer: "undefined",
      print: "undefined", issueCommand: "undefined", gc: "undefined", performance: "undefined", setImmediate: "undefined",
    });
  });

  it("ArrayBuffer.fromString / String.fromArrayBuffer use UTF-8", async () => {
    expect(await xs.call("strings", "hé€")).toEqual({ bytes: [0x68, 0xc3, 0xa9, 0xe2, 0x82, 0xac], back: "hé€" });
  });

  it("trace reaches the host verbatim, mc/config holds the given values", async () => {
    await xs.call("say", "temp=", 21.5, "\n");
    expect(xs.output).toContain("temp=21.5\n");
    expect(await xs.call("configValue", "port")).toBe("1883");
  });

  it("timers: one-shot, repeat cleared in its callback, park and reschedule, clear", async () => {
    expect(await xs.call("timers")).toEqual(["repeat 1", "repeat 2", "repeat 3", "parked fired", "elapsed >=60"]);
  });

  it("socket bridge: connect, write, read back through a real TCP echo server", async () => {
    const text = "hello from XS ".repeat(300); // 4200 bytes: several segments each way
    const r = await xs.call<{ received: string; messages: number[]; writable: number }>("echo", echoPort, text.slice(0, 2900), 2900);
    expect(r.received).toBe(text.slice(0, 2900));
    expect(r.messages[0]).toBe(1);
    expect(r.messages).toContain(2);
    expect(r.writable).toBe(2920);
  });

  it("socket write is all or nothing when the send buffer is short", async () => {
    expect(await xs.call("overfill", echoPort)).toBe("can't write all data; room 2920");
  });

  it("a refused connection reports a negative message", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    expect(await xs.call("refused", port)).toBe(-2);
  });

  it("an exception in a device callback is reported as a fault; a throwing call rejects", async () => {
    await xs.call("callbackThrows");
    expect(xs.faults.some((f) => f.includes("thrown in a timer callback"))).toBe(true);
    await expect(xs.call("fail")).rejects.toThrow(/failing on purpose/);
  });
});

describe("what a board lacks or cannot afford fails loudly", () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "xs-lacks-")); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, source: string): string {
    const path = join(dir, name);
    writeFileSync(path, source);
    return path;
  }

  it("importing a Node module fails the bundle", async () => {
    const path = write("node.ts", `import { createHash } from "node:crypto";\nexport const h = () => createHash("md5");\n`);
    await expect(bundleForXS(path)).rejects.toThrow(XSBundleError);
    await expect(bundleForXS(path)).rejects.toThrow(/"node:crypto" is not available on XS/);
  });

  it("an npm import fails the bundle", async () => {
    const path = write("npm.ts", `import mqtt from "mqtt-packet";\nexport const p = () => mqtt;\n`);
    await expect(bundleForXS(path)).rejects.toThrow(/"mqtt-packet" is not available on XS/);
  });

  it("globals XS lacks (TextEncoder, setTimeout, console) throw inside XS", async () => {
    const path = write("globals.ts", [
      `export function encode() { return new TextEncoder().encode("x").length; }`,
      `export function later() { setTimeout(() => {}, 1); }`,
      `export function log() { console.log("x"); }`,
    ].join("\n"));
    const xs = await XSHost.start({ entry: path });
    try {
      await expect(xs.call("encode")).rejects.toThrow(/TextEncoder/);
      await expect(xs.call("later")).rejects.toThrow(/setTimeout/);
      await expect(xs.call("log")).rejects.toThrow(/console/);
    } finally {
      await xs.close();
    }
  });

  it("keeping more heap slots alive than the ESP8266 budget fails the host", async () => {
    const xs = await XSHost.start({ entry, slotBudget: 1024 });
    try {
      // A little is fine...
      expect(await xs.call("hoard", 50)).toBe(50);
      // ...but 2000 live objects cannot fit: the call fails with the budget error.
      await expect(xs.call("hoard", 2000)).rejects.toThrow(XSBudgetError);
      await expect(xs.call("hoard", 1)).rejects.toThrow(/over budget/);
    } finally {
      await xs.close();
    }
  });
});
