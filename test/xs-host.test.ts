// The XS host itself: the real xsnap-worker starts and evaluates, bundles see a board's globals, timers, the
// socket bridge and the board's modules behave like Moddable's (lwIP and lin rules from the SDK's C sources),
// and what a board lacks or cannot afford fails loudly. Guards (frozen built-ins, aborts): test/xs-guards.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server, type Socket as NetSocket } from "node:net";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XSWorker, checkWorker, XSWorkerMissingError } from "../hosts/xs/worker.ts";
import { XSHost, XSBudgetError } from "../sim/xs/host.ts";
import { bundleForXS, XSBundleError } from "../hosts/xs/bundle.ts";
import { Delivery } from "../hosts/xs/protocol.ts";

const entry = "test/support/xs/basics.ts";

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

  it("a throwing call rejects; the machine goes on", async () => {
    await expect(xs.call("fail")).rejects.toThrow(/failing on purpose/);
    expect(await xs.call("configValue", "port")).toBe("1883");
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

const modules = "test/support/xs/modules.ts";

/** A loopback server that greets each connection with `greeting` and echoes what it receives. */
async function greeter(greeting: string): Promise<{ server: Server; port: number; conns: NetSocket[] }> {
  const conns: NetSocket[] = [];
  const server = createServer((c) => { conns.push(c); c.on("error", () => {}); c.write(greeting); c.pipe(c); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port, conns };
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("`socket` follows the SDK's C code (lwIP on ESP8266, lin)", () => {
  let esp: XSHost, lin: XSHost;
  let g: Awaited<ReturnType<typeof greeter>>;
  beforeAll(async () => {
    g = await greeter("hello,world\n12345");
    [esp, lin] = await Promise.all([XSHost.start({ entry: modules }), XSHost.start({ entry: modules, platform: "lin" })]);
  });
  afterAll(async () => {
    await Promise.all([esp?.close(), lin?.close()]);
    for (const c of g?.conns ?? []) c.destroy();
    g?.server.close();
  });

  it("dictionary: lin takes only `host`; lwIP takes `host` or an IP `address`", async () => {
    expect(await lin.call("socketDictionary", { address: "127.0.0.1", port: g.port })).toBe("host required in dictionary");
    expect(await lin.call("socketDictionary", { host: "127.0.0.1", port: g.port })).toBe("ok");
    expect(await esp.call("socketDictionary", { address: "127.0.0.1", port: g.port })).toBe("ok");
    expect(await esp.call("socketDictionary", { host: "localhost", port: g.port })).toBe("ok");
    expect(await esp.call("socketDictionary", { address: "localhost", port: g.port })).toBe("invalid IP address");
    expect(await esp.call("socketDictionary", { port: g.port })).toBe("invalid dictionary");
    expect(await esp.call("socketDictionary", { host: "127.0.0.1", port: g.port, kind: "UDP" })).toMatch(/UDP is not supported/);
  });

  it("read forms: count, byte, skip, terminator, limit, ArrayBuffer; nothing left throws on lwIP, is undefined on lin", async () => {
    const common = [17, 17, 0x68, 2, "lo,", "wor", [0x6c, 0x64], "\n12345", 0];
    expect(await esp.call("socketReads", g.port, "127.0.0.1")).toEqual([...common, "nothing to read", "nothing to read"]);
    // lin: read(Number) gives undefined (null through JSON) and an unknown type is not an error when empty
    expect(await lin.call("socketReads", g.port, "127.0.0.1")).toEqual([...common, null, "ok", "ok"]);
  });

  it("write: space, several items at once, all or nothing, unsupported types", async () => {
    expect(await esp.call("socketWrites", g.port, "127.0.0.1")).toEqual([2920, "can't write all data", "unsupported type for write", "127.0.0.1"]);
    expect(await lin.call("socketWrites", g.port, "localhost")).toEqual([1024, "can't write all data", "unsupported type for write", "127.0.0.1"]);
    // What the server got: "hello,world..." echoed back aside, the items in order.
    await expect.poll(() => g.conns.some((c) => c.bytesRead >= 7)).toBe(true);
  });

  it("a refused connection: lwIP reports an error; lin reports connected, write() throws \"write failed\", then a disconnect", async () => {
    const port = await closedPort();
    // lwIP: -2; a write after it only traces "write on closed socket"; close() is quiet
    expect(await esp.call("socketLife", port, "127.0.0.1", true, 500)).toEqual([-2, "ok", "ok"]);
    expect(esp.output).toContain("write on closed socket\n");
    expect(await lin.call("socketLife", port, "127.0.0.1", true, 500)).toEqual([1, "write failed", -1, "write on closed socket", "close on closed socket"]);
  });

  it("the peer closing after data: lin reports -1 and the socket is gone (close throws); lwIP's close is quiet", async () => {
    const bye = createServer((c) => c.end("bye"));
    await new Promise<void>((r) => bye.listen(0, "127.0.0.1", r));
    const port = (bye.address() as { port: number }).port;
    try {
      expect(await esp.call("socketLife", port, "127.0.0.1", false, 2000)).toEqual([1, 2, "bye", -1, "ok", "ok"]);
      expect(await lin.call("socketLife", port, "127.0.0.1", false, 2000)).toEqual([1, 2, "bye", -1, "write on closed socket", "close on closed socket"]);
    } finally {
      bye.close();
    }
  });
});

describe("`embedded:io/socket/tcp` as lwIP builds it", () => {
  let xs: XSHost;
  let g: Awaited<ReturnType<typeof greeter>>;
  beforeAll(async () => {
    g = await greeter("");
    xs = await XSHost.start({ entry: modules });
  });
  afterAll(async () => {
    await xs?.close();
    for (const c of g?.conns ?? []) c.destroy();
    g?.server.close();
  });

  it("connects by address; onWritable(space), write() returns space left, read() into the caller's buffer and by count", async () => {
    expect(await xs.call("tcpEcho", g.port, "abcdefghij")).toEqual([
      ["writable", 2920, "127.0.0.1", true],
      ["write", 2910],
      ["too much", "invalid", "invalid"],
      ["into", 4, "abcd"],
      ["received", "abcdefghij", null],
      ["number", "number", "unimplemented"],
    ]);
  });

  it("options: a name in `host` is not resolved (invalid address), bad port, bad format, callbacks must be functions", async () => {
    expect(await xs.call("tcpOptions", { host: "localhost", port: g.port })).toBe("invalid address");
    expect(await xs.call("tcpOptions", { address: "127.0.0.1", port: 70000 })).toBe("invalid port");
    expect(await xs.call("tcpOptions", { address: "127.0.0.1" })).toBe("invalid");
    expect(await xs.call("tcpOptions", { address: "127.0.0.1", port: g.port, format: "string" })).toBe("unimplemented");
    expect(await xs.call("tcpOptions", { address: "127.0.0.1", port: g.port, onReadable: 5 })).toBe("not a function");
    expect(await xs.call("tcpOptions", { address: "127.0.0.1", port: g.port })).toBe("ok");
  });

  it("the peer's close comes as onError, after what arrived was read; write() then throws \"not ready\"", async () => {
    const bye = createServer((c) => c.end("last words"));
    await new Promise<void>((r) => bye.listen(0, "127.0.0.1", r));
    try {
      const port = (bye.address() as { port: number }).port;
      expect(await xs.call("tcpPeerClose", port)).toEqual([["readable", 10, "last words"], "error", "not ready"]);
    } finally {
      bye.close();
    }
  });
});

describe("the board's wifi, net, preference and pins (the simulator's modules, reached from XS)", () => {
  let xs: XSHost, lin: XSHost;
  beforeAll(async () => {
    const accessPoints = [{ ssid: "home", password: "home-pass-1", associateMs: 50, dhcpMs: 50 }];
    [xs, lin] = await Promise.all([
      XSHost.start({ entry: modules, accessPoints, airwaves: { scanMs: 50 } }),
      XSHost.start({ entry: modules, accessPoints, platform: "lin" }),
    ]);
  });
  afterAll(async () => { await Promise.all([xs?.close(), lin?.close()]); });

  it("Wi-Fi: a rejected password is \"disconnect\" -1; then connect, gotIP, and net sees the lease", async () => {
    expect(await xs.call("netGet", ["IP"])).toEqual([null]);
    expect(await xs.call("wifiConnect", { ssid: "home", password: "wrong-pass" })).toEqual([["disconnect", -1], true, null, null]);
    expect(await xs.call("wifiConnect", { ssid: "home", password: "home-pass-1" })).toEqual(["connect", true, "gotIP", true, "192.168.10.100", "home"]);
    expect(await xs.call("netGet", ["IP", "SSID", "RSSI", "MAC"])).toEqual(["192.168.10.100", "home", -50, xs.device.mac]);
  });

  it("Wi-Fi scan items then null; argument errors as the ESP8266 port words them", async () => {
    expect(await xs.call("wifiScan")).toEqual([["home", -50, 6, "wpa2_psk"]]);
    expect(await xs.call("wifiErrors")).toEqual(["ssid required", "ssid too long - 32 bytes max", "use WiFi.disconnect()"]);
  });

  it("lin: MAC is undefined, the handler gets the message alone as a plain function, scanning needs a mode first", async () => {
    expect((await lin.call<unknown[]>("netGet", ["MAC", "SSID"]))).toEqual([null, null]);
    expect(await lin.call("wifiScan").catch((e: Error) => e.message)).toMatch(/Wi-Fi is disabled/);
    expect(await lin.call("wifiConnect", { ssid: "home", password: "home-pass-1" })).toEqual(["connect", false, "gotIP", false, expect.any(String), null]);
  });

  it("net resolves names with the host's resolver (loopback names only: tests stay off the network)", async () => {
    expect(await xs.call("netResolve", "localhost")).toEqual(["localhost", "127.0.0.1"]);
    expect(await xs.call("netResolve", "127.0.0.1")).toEqual(["127.0.0.1", "127.0.0.1"]);
  });

  it("preference: values of every type, keys, delete, the ESP8266's name and value limits", async () => {
    expect(await xs.call("preferences")).toEqual([[42, "text", true, [1, 2, 3]], ["n", "s", "b", "buf"], null, "too long", "can't save prefs"]);
  });

  it("pins: Analog.read and Digital.write reach the board's pins", async () => {
    xs.device.pins.setAnalog(0, 777);
    expect(await xs.call("pins")).toEqual([777, 777, 10]);
    expect(xs.device.pins.level(2)).toBe(0);
    expect(xs.device.pins.level(5)).toBe(1);
  });
});

describe("the host's stand-ins allocate nothing per message (they stand for native code)", () => {
  // Counted as allocation: the rise of the live heap count over one crank (XS collects only when it must;
  // a crank with a collection shows a fall and is left out). Every delivery costs the same fixed slots:
  // xsnap's ArrayBuffer of the delivered bytes and the one view the bridge makes of it. Anything the socket,
  // TCP or timer stand-ins allocated per message would show on top of an empty delivery's count.
  async function risesPerOp(run: (xs: XSHost, port: number) => Promise<void>, ops: number[], cranks: number): Promise<{ empty: number; rises: Map<number, number[]> }> {
    const server = createServer((c) => { c.on("error", () => {}); c.pipe(c); c.write("x".repeat(20)); });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const rises = new Map<number, number[]>(ops.map((op) => [op, []]));
    let last = -1;
    const xs = await XSHost.start({
      entry: modules,
      onDelivered: (op, meter) => {
        if (last >= 0 && meter.currentHeapCount >= last) rises.get(op)?.push(meter.currentHeapCount - last);
        last = meter.currentHeapCount;
      },
    });
    try {
      const empties: number[] = [];
      for (let i = 0; i < 20; i++) {
        const before = (await xs.deliver(Delivery.Flush, 0))!.currentHeapCount;
        empties.push((await xs.deliver(Delivery.Flush, 0))!.currentHeapCount - before);
      }
      last = -1;
      await run(xs, (server.address() as { port: number }).port);
      await xs.until(`${cranks} cranks`, () => ops.reduce((n, op) => n + rises.get(op)!.length, 0) >= cranks, 20_000);
      return { empty: mostCommon(empties), rises };
    } finally {
      await xs.close();
      server.close();
    }
  }

  function mostCommon(values: number[]): number {
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1])[0][0];
  }

  function expectOnlyTheDelivery(empty: number, rises: Map<number, number[]>): void {
    expect(empty).toBeGreaterThan(0);
    expect([...rises.values()].some((r) => r.length >= 20)).toBe(true);
    for (const [op, r] of rises) {
      if (r.length < 20) continue; // too few to tell (e.g. acknowledgements that all rode on data)
      const exact = r.filter((v) => v === empty).length;
      expect({ op, mostCommon: mostCommon(r) }).toEqual({ op, mostCommon: empty });
      expect(exact / r.length, `delivery ${op}: ${r.length - exact} of ${r.length} cranks allocated more than an empty one`).toBeGreaterThan(0.95);
    }
  }

  it("socket: read(Number) and write(staging) of each echoed message", async () => {
    const { empty, rises } = await risesPerOp((xs, port) => xs.call("socketPingPong", port), [Delivery.Data, Delivery.DataSent, Delivery.Sent], 300);
    expectOnlyTheDelivery(empty, rises);
  });

  it("embedded:io/socket/tcp: read(buffer) and write(buffer) of each echoed message", async () => {
    const { empty, rises } = await risesPerOp((xs, port) => xs.call("tcpPingPong", port), [Delivery.Data, Delivery.DataSent, Delivery.Sent], 300);
    expectOnlyTheDelivery(empty, rises);
  });

  it("timer: a repeat's fire and re-arm", async () => {
    const { empty, rises } = await risesPerOp((xs) => xs.call("ticking", 1), [Delivery.TimerFire], 200);
    expectOnlyTheDelivery(empty, rises);
  });
});
