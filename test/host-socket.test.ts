// The simulator's `socket` module against real TCP peers on 127.0.0.1, with the device's network conditions.
import { describe, expect, it } from "vitest";
import net from "node:net";
// The simulator's module itself (the full runtime API), not types/socket.d.ts, which declares only what the
// SDK's typings do.
import { Socket, Listener } from "../hosts/node/modules/socket.ts";
import SocketModule from "../hosts/node/modules/socket.ts";
import { currentBoard } from "../hosts/node/board.ts";
import { Device } from "../sim/board/device.ts";
import { VirtualClock } from "../sim/board/clock.ts";
import { cleanupAfterEach, serveTcp } from "./support/tcp-server.ts";

type Event = [message: number, value?: number];

const cleanups = cleanupAfterEach();
const serve = (onConnection?: (c: net.Socket) => void) => serveTcp(cleanups, onConnection);

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Lets real I/O and queued callbacks run for a while (used before asserting that nothing happened). */
const settle = (ms = 80) => new Promise((r) => setTimeout(r, ms));

/** A socket created as `device`, recording its messages; `onReadable` reads (default: everything, as bytes). */
function open(device: Device, port: number, onReadable?: (s: Socket, value: number) => void) {
  const events: Event[] = [];
  const data: number[] = [];
  const selves: unknown[] = [];
  const socket = device.run(() => new Socket({ address: "127.0.0.1", port }));
  socket.callback = function (message: number, value?: number) {
    selves.push(this);
    events.push(value === undefined ? [message] : [message, value]);
    if (message === Socket.readable) {
      if (onReadable) onReadable(this, value!);
      else data.push(...new Uint8Array(this.read(ArrayBuffer)));
    }
  };
  cleanups.push(() => socket.close());
  const messages = () => events.map((e) => e[0]);
  return { socket, events, data, selves, messages };
}

function newDevice(options: ConstructorParameters<typeof Device>[0] = {}) {
  const traces: string[] = [];
  const device = new Device({ trace: (t) => traces.push(t), ...options });
  return { device, traces };
}

describe("Socket basics", () => {
  it("exports the Moddable shape and constants", () => {
    expect(SocketModule.Socket).toBe(Socket);
    expect(SocketModule.Listener).toBe(Listener);
    expect([Socket.connected, Socket.readable, Socket.writable, Socket.error, Socket.disconnected]).toEqual([1, 2, 3, -2, -1]);
  });

  it("connects, calls back with this = the socket, and reports REMOTE_IP", async () => {
    const { device } = newDevice();
    const srv = await serve();
    const s = open(device, srv.port);
    await until(() => s.events.length > 0, "connected");
    expect(s.events[0]).toEqual([1]);
    expect(s.selves[0]).toBe(s.socket);
    expect(s.socket.get("REMOTE_IP")).toBe("127.0.0.1");
    expect(device.network.connects).toBe(1);
    expect(device.network.openSockets).toBe(1);
  });

  it("rejects bad dictionaries synchronously", () => {
    const { device } = newDevice();
    device.run(() => {
      expect(() => new Socket({ port: 80 })).toThrow("invalid dictionary");
      expect(() => new Socket({ address: "not an ip", port: 80 })).toThrow("invalid IP address");
      expect(() => new Socket({ address: "127.0.0.1", port: 80, kind: "UDP" })).toThrow(/not simulated/);
    });
  });

  it("echoes strings, numbers, ArrayBuffers and views (honouring byteOffset/byteLength)", async () => {
    const { device } = newDevice();
    const srv = await serve((c) => c.pipe(c));
    const s = open(device, srv.port);
    await until(() => s.events.length > 0, "connected");
    const backing = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).buffer;
    s.socket.write("héllo", 33, 0x1ff, new Uint8Array([10, 11]).buffer);
    s.socket.write(new Uint8Array(backing, 2, 3), new DataView(backing, 6, 2), new Uint16Array([0x0201]));
    const expected = [...new TextEncoder().encode("héllo"), 33, 0xff, 10, 11, 2, 3, 4, 6, 7, ...new Uint8Array(new Uint16Array([0x0201]).buffer)];
    await until(() => s.data.length >= expected.length, "echo");
    expect(s.data).toEqual(expected);
    expect(device.network.bytesOut).toBe(expected.length);
    expect(device.network.bytesIn).toBe(expected.length);
  });

  it("reads by Number, String count, ArrayBuffer terminator, null skip and count", async () => {
    const { device } = newDevice();
    const payload = "0123456789abc\nrest";
    const srv = await serve((c) => c.write(payload));
    const results: unknown[] = [];
    const s = open(device, srv.port, (sock, value) => {
      try {
        results.push(value, sock.read(), sock.read(Number), sock.read(String, 3), sock.read(null, 2));
        results.push(Buffer.from(sock.read(ArrayBuffer, "\n")).toString(), sock.read(), sock.read(String), sock.read());
        sock.read(Number);
        results.push("no throw");
      } catch (e) {
        results.push((e as Error).message);
      }
    });
    await until(() => results.length > 0, "readable");
    expect(s.events[1]).toEqual([2, payload.length]);
    expect(results).toEqual([18, 18, 0x30, "123", 2, "6789abc\n", 4, "rest", 0, "nothing to read"]);
  });

  it("accounts free space, writes all or nothing, and reports writable when drained", async () => {
    const { device } = newDevice();
    device.network.sendWindow = 100;
    const srv = await serve();
    const s = open(device, srv.port);
    await until(() => s.events.length > 0, "connected");
    expect(s.socket.write()).toBe(100);
    s.socket.write(Buffer.alloc(60, 0x41));
    expect(s.socket.write()).toBe(40);
    expect(() => s.socket.write("x".repeat(30), Buffer.alloc(20))).toThrow("can't write all data");
    expect(() => s.socket.write("ok", true as never)).toThrow("unsupported type for write");
    expect(s.socket.write()).toBe(40);
    await until(() => s.events.some((e) => e[0] === Socket.writable), "writable");
    expect(s.events.find((e) => e[0] === Socket.writable)).toEqual([3, 100]);
    s.socket.write("Z");
    await until(() => srv.bytes().length >= 61, "61 bytes");
    await settle(30);
    expect(srv.bytes().toString()).toBe("A".repeat(60) + "Z");
  });

  it("copies the data at write time", async () => {
    const { device } = newDevice();
    const srv = await serve();
    const s = open(device, srv.port);
    await until(() => s.events.length > 0, "connected");
    const buf = new Uint8Array([1, 2, 3]);
    s.socket.write(buf);
    buf.fill(9);
    s.socket.write(buf.buffer);
    await until(() => srv.bytes().length >= 6, "6 bytes");
    expect([...srv.bytes()]).toEqual([1, 2, 3, 9, 9, 9]);
  });

  it("delivers what the peer sent, then disconnected (-1); the socket is then unusable", async () => {
    const { device, traces } = newDevice();
    const srv = await serve((c) => c.end("bye"));
    const s = open(device, srv.port);
    await until(() => s.messages().includes(-1), "disconnect");
    expect(s.messages()).toEqual([1, 2, -1]);
    expect(Buffer.from(s.data).toString()).toBe("bye");
    expect(s.socket.write()).toBe(0);
    s.socket.write("ignored");
    expect(traces.join("")).toContain("write on closed socket");
    expect(device.network.openSockets).toBe(0);
  });

  it("reports error (-2) when the connection is refused", async () => {
    const { device } = newDevice();
    const s = open(device, await freePort());
    await until(() => s.events.length > 0, "error");
    await settle(30);
    expect(s.messages()).toEqual([-2]);
  });

  it("calls back nothing after close(), and reading a closed socket throws", async () => {
    const { device } = newDevice();
    const srv = await serve();
    const s = open(device, srv.port);
    await until(() => s.events.length > 0 && srv.conns.length > 0, "connected");
    s.socket.write("last words");
    s.socket.close();
    srv.conns[0].write("too late");
    await until(() => srv.conns[0].readableEnded || srv.bytes().length >= 10, "server sees data");
    await settle();
    expect(s.messages()).toEqual([1]);
    expect(srv.bytes().toString()).toBe("last words");
    expect(() => s.socket.read()).toThrow("read on closed socket");
    expect(() => s.socket.write("x")).toThrow("write on closed socket");
    expect(device.network.openSockets).toBe(0);
  });
});

describe("Socket reads like lwip", () => {
  it("splits received data into readable messages of at most maxReadChunk bytes", async () => {
    const { device } = newDevice();
    device.network.maxReadChunk = 10;
    const payload = Buffer.from(Array.from({ length: 35 }, (_, i) => i));
    const srv = await serve((c) => c.write(payload));
    const s = open(device, srv.port);
    await until(() => s.data.length >= 35, "35 bytes");
    const sizes = s.events.filter((e) => e[0] === 2).map((e) => e[1]!);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(35);
    expect(s.data).toEqual([...payload]);
  });

  it("keeps bytes left unread readable and holds later chunks until they are read", async () => {
    const { device, traces } = newDevice();
    device.network.maxReadChunk = 4;
    const srv = await serve((c) => c.write("abcdefgh"));
    const firstBytes: string[] = [];
    const s = open(device, srv.port, (sock) => { if (firstBytes.length === 0) firstBytes.push(sock.read(String, 1)); });
    await until(() => firstBytes.length > 0, "first readable");
    await settle();
    expect(s.events.filter((e) => e[0] === 2)).toEqual([[2, 4]]);
    expect(device.network.unreadStalls).toBe(1);
    expect(traces.join("")).toContain("left 3 bytes unread");
    expect(s.socket.read(String)).toBe("bcd");
    await until(() => s.events.filter((e) => e[0] === 2).length === 2, "second readable");
    expect(s.events.filter((e) => e[0] === 2)[1]).toEqual([2, 4]);
  });
});

describe("NetworkConditions", () => {
  it("esp8266() presets lwip's windows", () => {
    const { device } = newDevice();
    device.network.esp8266();
    expect(device.network.sendWindow).toBe(2920);
    expect(device.network.maxReadChunk).toBe(1460);
  });

  it("blackhole: nothing passes or is acknowledged, no error; held traffic flows when lifted", async () => {
    const { device } = newDevice();
    device.network.sendWindow = 100;
    const srv = await serve();
    const s = open(device, srv.port);
    await until(() => s.events.length > 0 && srv.conns.length > 0, "connected");
    device.network.blackhole(true);
    s.socket.write("ping");
    srv.conns[0].write("pong");
    await settle();
    expect(srv.bytes().length).toBe(0);
    expect(s.messages()).toEqual([1]);
    expect(s.socket.write()).toBe(96);
    device.network.blackhole(false);
    await until(() => srv.bytes().length === 4 && s.data.length === 4, "traffic after blackhole");
    expect(srv.bytes().toString()).toBe("ping");
    expect(Buffer.from(s.data).toString()).toBe("pong");
    await until(() => s.messages().includes(Socket.writable), "writable");
    expect(s.socket.write()).toBe(100);
    expect(s.messages()).not.toContain(-2);
  });

  it("killConnections resets every open socket of the device (-2) and the peers see it", async () => {
    const { device } = newDevice();
    const srv = await serve();
    const a = open(device, srv.port);
    const b = open(device, srv.port);
    await until(() => a.events.length > 0 && b.events.length > 0 && srv.conns.length === 2, "connected");
    const closedAtServer: boolean[] = [];
    for (const c of srv.conns) c.on("close", () => closedAtServer.push(true));
    device.network.killConnections();
    await until(() => a.events.length > 1 && b.events.length > 1 && closedAtServer.length === 2, "resets");
    expect(a.messages()).toEqual([1, -2]);
    expect(b.messages()).toEqual([1, -2]);
    expect(device.network.openSockets).toBe(0);
  });

  it("link down: new connections fail with -2, open ones freeze; traffic resumes when the link returns", async () => {
    const { device } = newDevice();
    const srv = await serve();
    const s = open(device, srv.port);
    await until(() => s.events.length > 0 && srv.conns.length > 0, "connected");
    device.network.setLink(false);
    expect(device.network.linkUp).toBe(false);
    s.socket.write("a");
    srv.conns[0].write("b");
    const late = open(device, srv.port);
    await until(() => late.events.length > 0, "failed connect");
    expect(late.messages()).toEqual([-2]);
    await settle();
    expect(srv.bytes().length).toBe(0);
    expect(s.messages()).toEqual([1]);
    device.network.setLink(true);
    await until(() => srv.bytes().length === 1 && s.data.length === 1, "traffic after link up");
    expect(srv.bytes().toString()).toBe("a");
    expect(Buffer.from(s.data).toString()).toBe("b");
    expect(srv.conns.length).toBe(1);
  });

  it("latency delays connect (two trips) and each direction, on the device clock", async () => {
    const clock = new VirtualClock();
    const { device } = newDevice({ clock });
    device.network.latencyMs = 1000;
    device.network.peerAckDelayMs = 0; // the silent server's delayed ACK is not what this measures
    const srv = await serve();
    const s = open(device, srv.port);
    clock.advance(999);
    await settle(40);
    expect(srv.conns.length).toBe(0);
    clock.advance(1);
    await until(() => srv.conns.length === 1, "SYN reaches the server");
    await settle(20);
    expect(s.events.length).toBe(0);
    clock.advance(1000);
    await until(() => s.events.length === 1, "connected");
    s.socket.write("x");
    await settle(20);
    clock.advance(999);
    await settle(20);
    expect(srv.bytes().length).toBe(0);
    clock.advance(1);
    await until(() => srv.bytes().length === 1, "data after one trip");
    await settle(20);
    clock.advance(999);
    await settle(20);
    expect(s.messages()).toEqual([1]);
    clock.advance(1);
    await until(() => s.events.length === 2, "acknowledged after the trip back");
    srv.conns[0].write("y");
    await settle(20);
    clock.advance(999);
    await settle(20);
    expect(s.data.length).toBe(0);
    clock.advance(1);
    await until(() => s.data.length === 1, "reply after one trip");
    expect(s.messages()).toEqual([1, 3, 2]);
  });

  it("runs callbacks in the owning device's context and counts per device", async () => {
    const one = newDevice({ id: "one" }).device;
    const two = newDevice({ id: "two" }).device;
    const srv = await serve((c) => c.pipe(c));
    const seen: Record<string, string[]> = { one: [], two: [] };
    const make = (device: Device, text: string) => {
      const s = open(device, srv.port, (sock) => { seen[device.id].push(currentBoard().id); sock.read(null); });
      s.socket.callback = ((cb) => function (this: Socket, m: number, v?: number) {
        if (m === Socket.connected) { seen[device.id].push(currentBoard().id); this.write(text); }
        cb!.call(this, m, v);
      })(s.socket.callback);
      return s;
    };
    make(one, "from one");
    make(two, "from device two");
    await until(() => seen.one.length >= 2 && seen.two.length >= 2, "both echoes");
    expect(new Set(seen.one)).toEqual(new Set(["one"]));
    expect(new Set(seen.two)).toEqual(new Set(["two"]));
    expect(one.network.bytesOut).toBe(8);
    expect(two.network.bytesOut).toBe(15);
  });

  it("notifies change listeners", async () => {
    const { device } = newDevice();
    const events: string[] = [];
    const off = device.network.onChange((e) => events.push(e));
    const srv = await serve((c) => c.write("hi"));
    const s = open(device, srv.port);
    await until(() => s.data.length === 2, "data");
    device.network.setLink(false);
    off();
    device.network.setLink(true);
    expect(events).toEqual(["open", "connect", "in", "link"]);
  });
});

describe("Listener", () => {
  it("accepts a connection with new Socket({listener}), which gets connected and the client's data", async () => {
    const { device } = newDevice();
    const port = await freePort();
    const accepted: Socket[] = [];
    const got: string[] = [];
    const listener = device.run(() => new Listener({ port }));
    cleanups.push(() => listener.close());
    listener.callback = function () {
      const socket = new Socket({ listener: this });
      accepted.push(socket);
      cleanups.push(() => socket.close());
      socket.callback = function (message: number) {
        got.push(`${message}:${currentBoard().id}`);
        if (message === Socket.readable) this.write(this.read(String).toUpperCase());
      };
    };
    await settle(20);
    const client = net.connect({ host: "127.0.0.1", port });
    cleanups.push(() => client.destroy());
    const reply: Buffer[] = [];
    client.on("data", (d) => reply.push(d));
    client.write("hello");
    await until(() => Buffer.concat(reply).length === 5, "reply");
    expect(Buffer.concat(reply).toString()).toBe("HELLO");
    expect(got.slice(0, 2)).toEqual([`1:${device.id}`, `2:${device.id}`]);
    expect(() => device.run(() => new Socket({ listener }))).toThrow("no socket available from listener");
  });
});
