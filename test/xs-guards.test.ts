// The XS host's guards against what kills firmware on the Moddable runtime but passes in plain engines:
// built-ins frozen as Moddable's linker freezes them, and an exception escaping any host callback aborting
// the machine (every pending and later call fails with it). Each guard is shown failing the bad code.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:net";
import { XSHost, XSAbortError } from "../sim/xs/host.ts";

const entry = "test/support/xs/guards.ts";

describe("built-ins are frozen as on a device", () => {
  let frozen: XSHost, open: XSHost;
  beforeAll(async () => {
    [frozen, open] = await Promise.all([XSHost.start({ entry }), XSHost.start({ entry, freeze: false })]);
  });
  afterAll(async () => { await Promise.all([frozen?.close(), open?.close()]); });

  it("writing Error.prototype.name, or this.name in an Error subclass, throws \"set name: not writable\"", async () => {
    const w = await frozen.call<Record<string, string>>("writes");
    expect(w["Error.prototype.name"]).toMatch(/^TypeError: .*set name: not writable/);
    expect(w["this.name in an Error subclass"]).toMatch(/^TypeError: .*set name: not writable/);
    expect(w["name as a class field"]).toBe("ok");
    // The same code in an unfrozen realm (any other engine) passes: that is why the guard is needed.
    const u = await open.call<Record<string, string>>("writes");
    expect(u["Error.prototype.name"]).toBe("ok");
    expect(u["this.name in an Error subclass"]).toBe("ok");
  });

  it("built-in prototypes, namespaces and functions are frozen; globals and plain objects are not", async () => {
    expect(await frozen.call("writes")).toMatchObject({
      "Array.prototype.push": expect.stringMatching(/^TypeError: .*not writable/),
      "Math.random": expect.stringMatching(/^TypeError: .*not writable/),
      "a property of a built-in function": expect.stringMatching(/^TypeError: /),
      "toString on a plain object": expect.stringMatching(/^TypeError: .*not writable/),
      "a global": "ok",
      "a plain object": "ok",
    });
  });

  it("src/'s error classes construct in the frozen realm", async () => {
    expect(await frozen.call("srcErrors")).toEqual(["MQTTError: invalid topic: empty", "FeedError"]);
  });
});

describe("an exception escaping a host callback aborts the machine", () => {
  let xs: XSHost | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await xs?.close();
    xs = undefined;
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  async function listen(): Promise<number> {
    server = createServer((c) => c.on("error", () => {}));
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    return (server.address() as { port: number }).port;
  }

  /** The call fails with the abort, the host says so, and the machine takes no more calls. */
  async function expectAbort(host: XSHost, call: Promise<unknown>, kind: string, what: RegExp): Promise<XSAbortError> {
    const error = (await call.then(() => undefined, (e: unknown) => e)) as XSAbortError;
    expect(error).toBeInstanceOf(XSAbortError);
    expect(error.kind).toBe(kind);
    expect(error.message).toMatch(what);
    expect(host.failure).toBe(error);
    expect(host.output).toContain("XS abort: unhandled exception in a " + kind + " callback");
    await expect(host.call("ping")).rejects.toBe(error);
    return error;
  }

  it("timer: the third tick throws; the call fails, the repeat stops ticking", async () => {
    let aborted: XSAbortError | undefined;
    xs = await XSHost.start({ entry, onAbort: (e) => { aborted = e; } });
    const e = await expectAbort(xs, xs.call("timerThrows"), "timer", /thrown in a timer callback/);
    expect(aborted).toBe(e);
    const ticks = xs.output.match(/tick \d/g);
    await new Promise((r) => setTimeout(r, 60));
    expect(xs.output.match(/tick \d/g)).toEqual(ticks);
    expect(ticks).toEqual(["tick 1", "tick 2", "tick 3"]);
  });

  it("socket: a callback that throws on connect", async () => {
    xs = await XSHost.start({ entry });
    await expectAbort(xs, xs.call("socketThrows", await listen()), "socket", /thrown in a socket callback/);
  });

  it("lin with the broker down: connected, then write() throws \"write failed\" out of the callback", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    xs = await XSHost.start({ entry, platform: "lin" });
    await expectAbort(xs, xs.call("writeOnConnect", port), "socket", /write failed/);
  });

  it("...and src/'s SocketTransport catches that throw: the client reports the refused connection and retries, no abort", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    xs = await XSHost.start({ entry, platform: "lin" });
    const seen = await xs.call<string[]>("clientOnRefusedSocket", port, 600);
    expect(xs.failure).toBeUndefined();
    expect(seen.length).toBeGreaterThanOrEqual(2); // the backoff retried, each attempt reported
    for (const line of seen) expect(line).toMatch(/connection lost: write failed .*connection refused or reset/);
  });

  it("embedded:io/socket/tcp: onWritable throws", async () => {
    xs = await XSHost.start({ entry });
    await expectAbort(xs, xs.call("tcpThrows", await listen()), "tcp", /thrown in onWritable/);
  });

  it("wifi: the callback throws on \"connect\"", async () => {
    xs = await XSHost.start({ entry, accessPoints: [{ ssid: "home", password: "home-pass-1", associateMs: 20 }] });
    await expectAbort(xs, xs.call("wifiThrows", "home", "home-pass-1"), "wifi", /thrown in a wifi callback/);
  });

  it("net: the resolve callback throws", async () => {
    xs = await XSHost.start({ entry });
    await expectAbort(xs, xs.call("resolveThrows", "localhost"), "net", /thrown in a resolve callback/);
  });

  it("a scan item's callback may throw (the ESP8266 port swallows it); the machine goes on", async () => {
    xs = await XSHost.start({ entry, accessPoints: [{ ssid: "home" }], airwaves: { scanMs: 20 } });
    expect(await xs.call("scanItemThrows")).toBe("scan ended");
    expect(xs.failure).toBeUndefined();
  });
});
