// The simulator's ECMA-419 `embedded:io/socket/tcp` module against real TCP peers on 127.0.0.1: read forms,
// write window, errors (refused, peer close after data), close.
import { describe, expect, it } from "vitest";
import net from "node:net";
import TCP from "embedded:io/socket/tcp";
import { Device } from "../sim/board/device.ts";
import { until, sleep } from "./support/wait.ts";
import { cleanupAfterEach, serveTcp } from "./support/tcp-server.ts";

const cleanups = cleanupAfterEach();
const serve = (onConnection?: (c: net.Socket) => void) => serveTcp(cleanups, onConnection);

interface Log { events: string[]; writable: number[]; readable: number[] }

/** A TCP socket on its own device; callbacks are logged, `handlers` may add behaviour. */
function open(port: number, handlers: { onReadable?: (this: TCP, n: number) => void; onWritable?: (this: TCP, n: number) => void } = {}, device = new Device({ trace: () => {} })) {
  const log: Log = { events: [], writable: [], readable: [] };
  const tcp = device.run(() => new TCP({
    address: "127.0.0.1", port, nodelay: true,
    onReadable(n) { log.events.push("readable"); log.readable.push(n); handlers.onReadable?.call(this, n); },
    onWritable(n) { log.events.push("writable"); log.writable.push(n); handlers.onWritable?.call(this, n); },
    onError() { log.events.push("error"); },
  }));
  cleanups.push(() => tcp.close());
  return { tcp, log, device };
}

describe("embedded:io/socket/tcp (simulator)", () => {
  it("reports writable with the whole window on connect; writes of one turn reach the peer in order", async () => {
    const srv = await serve();
    const { tcp, log, device } = open(srv.port);
    expect(() => tcp.write(new Uint8Array([1]))).toThrow(/not ready/);
    await until("connected", () => log.writable.length > 0);
    expect(log.writable[0]).toBe(device.network.sendWindow);
    const left = tcp.write(Uint8Array.of(1, 2, 3));
    expect(left).toBe(device.network.sendWindow - 3);
    const ab = new ArrayBuffer(2, { maxByteLength: 8 });
    new Uint8Array(ab).set([4, 5]);
    tcp.write(ab);
    (ab as any).resize(3);
    new Uint8Array(ab)[2] = 6;
    tcp.write(ab); // the same resizable buffer, grown: its new length counts
    tcp.write(new DataView(Uint8Array.of(9, 8, 7, 6).buffer, 1, 2));
    await until("bytes at the peer", () => srv.bytes().length >= 10);
    expect([...srv.bytes()]).toEqual([1, 2, 3, 4, 5, 4, 5, 6, 8, 7]);
    expect(device.network.bytesOut).toBe(10);
  });

  it("reads everything, a count, or into a caller's buffer; more than available throws; nothing gives undefined", async () => {
    const srv = await serve((c) => c.write(Buffer.from("hello, world!")));
    let results: unknown[] = [];
    const { log } = open(srv.port, {
      onReadable(n) {
        if (n < 13) return; // wait for all of it (it may arrive in pieces)
        const into = new ArrayBuffer(3);
        const view = new Uint8Array(8);
        results = [
          String.fromCharCode(...new Uint8Array(this.read(5) as ArrayBuffer)),
          this.read(into), String.fromCharCode(...new Uint8Array(into)),
          (() => { try { return this.read(new ArrayBuffer(6)); } catch (e) { return (e as Error).message; } })(),
          this.read(view.subarray(2, 4)), view[2], view[3],
          String.fromCharCode(...new Uint8Array(this.read() as ArrayBuffer)),
          this.read(), this.read(new ArrayBuffer(1)),
        ];
      },
    });
    await until("data read", () => results.length > 0);
    expect(log.readable[log.readable.length - 1]).toBe(13);
    expect(results).toEqual(["hello", 3, ", w", "invalid", 2, "o".charCodeAt(0), "r".charCodeAt(0), "ld!", undefined, undefined]);
  });

  it("reads one byte at a time in the number format", async () => {
    const srv = await serve((c) => c.write(Buffer.from([7, 8, 9])));
    const got: number[] = [];
    const { tcp } = open(srv.port, {
      onReadable() {
        this.format = "number";
        for (let b = this.read(); b !== undefined; b = this.read()) got.push(b as number);
      },
    });
    await until("three bytes", () => got.length === 3);
    expect(got).toEqual([7, 8, 9]);
    expect(tcp.format).toBe("number");
    expect(() => { tcp.format = "string" as never; }).toThrow(RangeError);
  });

  it("throws would block beyond the send window and reports writable again once the peer acknowledged", async () => {
    const srv = await serve();
    const device = new Device({ trace: () => {} });
    device.network.sendWindow = 100;
    const { tcp, log } = open(srv.port, {}, device);
    await until("connected", () => log.writable.length > 0);
    expect(log.writable[0]).toBe(100);
    expect(tcp.write(new Uint8Array(60))).toBe(40);
    expect(() => tcp.write(new Uint8Array(41))).toThrow(/would block/);
    expect(tcp.write(new Uint8Array(40))).toBe(0);
    await until("writable after the acknowledgement", () => log.writable[log.writable.length - 1] === 100);
    await until("100 bytes at the peer", () => srv.bytes().length === 100);
  });

  it("reports a refused connection through onError, without writable", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const { log, device } = open(port);
    await until("error", () => log.events.includes("error"));
    expect(log.events).toEqual(["error"]);
    expect(device.network.openSockets).toBe(0);
  });

  it("delivers data sent before the peer closed, and onError only after it was read", async () => {
    const srv = await serve((c) => c.end(Buffer.from("bye")));
    let hold = true;
    const got: string[] = [];
    const { tcp, log } = open(srv.port, {
      onReadable() { if (!hold) got.push(String.fromCharCode(...new Uint8Array(this.read() as ArrayBuffer))); },
    });
    await until("readable", () => log.events.includes("readable"));
    await sleep(50);
    expect(log.events).not.toContain("error"); // three bytes unread: the error waits
    hold = false;
    got.push(String.fromCharCode(...new Uint8Array(tcp.read() as ArrayBuffer)));
    await until("error after reading", () => log.events.includes("error"));
    expect(got.join("")).toBe("bye");
    expect(tcp.write(new Uint8Array(1))).toBeUndefined(); // after an error a write is ignored
  });

  it("close(): written data still goes out, then FIN; no callbacks afterwards; read throws", async () => {
    let ended = false;
    const srv = await serve((c) => { c.on("end", () => { ended = true; }); c.write("late"); });
    const { tcp, log, device } = open(srv.port);
    await until("connected", () => log.writable.length > 0);
    tcp.write(Uint8Array.of(65, 66));
    const before = log.events.length;
    tcp.close();
    await until("FIN at the peer", () => ended);
    expect([...srv.bytes()]).toEqual([65, 66]);
    await sleep(30);
    expect(log.events.length).toBe(before);
    expect(() => tcp.read()).toThrow();
    await until("detached", () => device.network.openSockets === 0 && device.network.endpoints.size === 0);
  });
});
