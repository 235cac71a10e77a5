// src/net/ws-transport.ts's framing on an in-memory inner transport, byte by byte where it matters: the upgrade
// handshake and each way it can fail, masked client frames, fragmented and split server frames, PING/PONG, CLOSE,
// protocol errors, and the MQTT stream inside frames as the real client reads it (oversize packets included).
import { createHash, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import mqttPacket from "mqtt-packet";
import { WebSocketTransport } from "../src/net/ws-transport";
import { base64, sha1 } from "../src/net/sha1";
import type { Transport, TransportListener } from "../src/net/transport";
import { MQTTClient, ErrorCode, type MQTTError } from "../src/mqtt/client";
import { OP, closeFrame, frame, parseFrames, parseRequest, upgradeResponse, type ClientFrame } from "./support/ws-frames.ts";
import { until } from "./support/wait.ts";

/** The connection under the frames: bytes pushed by the test, writes recorded; reads past what it holds throw. */
class FakeInner implements Transport {
  listener: TransportListener | undefined;
  host = "";
  port = 0;
  room = 100_000;
  written: Buffer[] = [];
  closes = 0;
  private data = Buffer.alloc(0);
  private pos = 0;

  open(host: string, port: number, listener: TransportListener): void { this.host = host; this.port = port; this.listener = listener; }
  connect(): void { this.listener!.onTransportConnect(); }
  /** Bytes arrive as one data event. */
  push(bytes: ArrayLike<number>): void {
    this.data = Buffer.concat([this.data.subarray(this.pos), Buffer.from(bytes as Uint8Array)]);
    this.pos = 0;
    this.listener?.onTransportData();
  }
  /** Bytes arrive one data event per `chunk` bytes. */
  trickle(bytes: ArrayLike<number>, chunk = 1): void {
    for (let i = 0; i < bytes.length && this.listener; i += chunk) this.push(Buffer.from(bytes as Uint8Array).subarray(i, i + chunk));
  }
  available(): number { return this.data.length - this.pos; }
  readByte(): number {
    if (this.pos >= this.data.length) throw new Error("readByte past the data");
    return this.data[this.pos++];
  }
  readInto(dst: Uint8Array, offset: number, max: number): number {
    const n = Math.min(max, this.available());
    dst.set(this.data.subarray(this.pos, this.pos + n), offset);
    this.pos += n;
    return n;
  }
  readAll(dst: Uint8Array): void {
    if (dst.length > this.available()) throw new Error("readAll past the data");
    this.readInto(dst, 0, dst.length);
  }
  skip(max: number): number {
    const n = Math.min(max, this.available());
    this.pos += n;
    return n;
  }
  writable(): number { return this.listener ? this.room : 0; }
  write(packet: Uint8Array): boolean {
    if (!this.listener || packet.length > this.room) return false;
    this.written.push(Buffer.from(packet));
    return true;
  }
  close(): void { this.closes++; this.listener = undefined; }

  /** Everything written after the upgrade request, as frames. */
  frames(): ClientFrame[] {
    const all = Buffer.concat(this.written), req = parseRequest(all)!;
    const { frames, rest } = parseFrames(all.subarray(req.length));
    expect(rest.length).toBe(0);
    return frames;
  }
}

/** What a transport reports to its listener, which reads (skips) whatever data it is told of. */
class Events implements TransportListener {
  source: WebSocketTransport | undefined;
  connects = 0;
  bytes = 0;
  writables = 0;
  closed: { error: boolean; reason?: string } | undefined;
  onTransportConnect(): void { this.connects++; }
  onTransportData(): void { this.bytes += this.source!.skip(this.source!.available()); }
  onTransportWritable(): void { this.writables++; }
  onTransportClose(error: boolean, reason?: string): void { this.closed = { error, reason }; }
}

function opened(options: ConstructorParameters<typeof WebSocketTransport>[0] = {}): { ws: WebSocketTransport; inner: FakeInner; events: Events } {
  const inner = new FakeInner(), events = new Events();
  const ws = new WebSocketTransport({ transport: inner, ...options });
  events.source = ws;
  ws.open("broker.example", 8080, events);
  return { ws, inner, events };
}

/** Answers the upgrade request; `change` makes the answer wrong. */
function answer(inner: FakeInner, change?: Parameters<typeof upgradeResponse>[1], after: ArrayLike<number> = []): Record<string, string> {
  inner.connect();
  const req = parseRequest(inner.written[0])!;
  inner.push(Buffer.concat([upgradeResponse(req.headers["sec-websocket-key"], change), Buffer.from(after as Uint8Array)]));
  return req.headers;
}

describe("sha1 and base64 (the handshake's Sec-WebSocket-Accept)", () => {
  it("match Node's crypto on 0..200-byte inputs", () => {
    for (let n = 0; n <= 200; n++) {
      const d = randomBytes(n);
      expect(Buffer.from(sha1(d)).toString("hex")).toBe(createHash("sha1").update(d).digest("hex"));
      expect(base64(d)).toBe(d.toString("base64"));
    }
  });

  it("give RFC 6455's example accept value", () => {
    const key = "dGhlIHNhbXBsZSBub25jZQ==";
    expect(base64(sha1(Buffer.from(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")))).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });
});

describe("the upgrade handshake", () => {
  it("sends a complete upgrade request with a fresh 16-byte key, and connects on a valid 101", () => {
    const { ws, inner, events } = opened({ path: "/ws/mqtt" });
    expect([inner.host, inner.port]).toEqual(["broker.example", 8080]);
    expect(ws.writable()).toBe(0);
    const h = answer(inner);
    const req = parseRequest(inner.written[0])!;
    expect(req.line).toBe("GET /ws/mqtt HTTP/1.1");
    expect(h).toMatchObject({ host: "broker.example:8080", upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13", "sec-websocket-protocol": "mqtt" });
    expect(Buffer.from(h["sec-websocket-key"], "base64")).toHaveLength(16);
    expect(events.connects).toBe(1);
    expect(events.closed).toBeUndefined();
    expect(ws.writable()).toBeGreaterThan(0);
    // A second connection of the same transport uses another key.
    ws.open("broker.example", 8080, events);
    inner.written = [];
    const h2 = answer(inner);
    expect(h2["sec-websocket-key"]).not.toBe(h["sec-websocket-key"]);
    expect(events.connects).toBe(2);
  });

  it("waits for the window when the upgrade request does not fit yet (a TLS socket just after its handshake)", () => {
    const { ws, inner, events } = opened();
    inner.room = 50;
    inner.connect();
    expect(inner.written).toHaveLength(0);
    expect(events.closed).toBeUndefined();
    inner.room = 1000;
    ws.onTransportWritable();
    expect(events.writables).toBe(0); // not the client's business before the upgrade
    const req = parseRequest(inner.written[0])!;
    expect(req.line).toBe("GET /mqtt HTTP/1.1");
    ws.onTransportWritable();
    expect(inner.written).toHaveLength(1); // sent once
    inner.push(upgradeResponse(req.headers["sec-websocket-key"]));
    expect(events.connects).toBe(1);
  });

  it("reads the response byte by byte, and frames that follow it in the same segment", () => {
    const { inner, events } = opened();
    inner.connect();
    const req = parseRequest(inner.written[0])!;
    inner.trickle(Buffer.concat([upgradeResponse(req.headers["sec-websocket-key"]), frame(OP.binary, [0x20, 2, 0, 0])]));
    expect(events.connects).toBe(1);
    expect(events.bytes).toBe(4);
  });

  const failures: Array<[string, Parameters<typeof upgradeResponse>[1], RegExp]> = [
    ["a 404", { status: "HTTP/1.1 404 Not Found" }, /answered "HTTP\/1\.1 404 Not Found" instead of switching to WebSocket/],
    ["a wrong accept value", { accept: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" }, /Sec-WebSocket-Accept is "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", expected "/],
    ["no subprotocol", { protocol: null }, /did not select the subprotocol "mqtt" \(Sec-WebSocket-Protocol: ""\)/],
    ["another subprotocol", { protocol: "mqttv3.1" }, /did not select the subprotocol "mqtt" \(Sec-WebSocket-Protocol: "mqttv3.1"\)/],
    ["an extension we did not offer", { extra: ["Sec-WebSocket-Extensions: permessage-deflate"] }, /extensions we did not offer: permessage-deflate/],
    ["headers longer than 1024 bytes", { extra: [`X-Padding: ${"x".repeat(1100)}`] }, /response headers longer than 1024 bytes/],
  ];
  for (const [what, change, text] of failures) {
    it(`fails on ${what}, saying so`, () => {
      const { ws, inner, events } = opened();
      answer(inner, change);
      expect(events.connects).toBe(0);
      expect(events.closed?.error).toBe(true);
      expect(events.closed?.reason).toMatch(/^WebSocket handshake with broker\.example:8080\/mqtt failed: /);
      expect(events.closed?.reason).toMatch(text);
      expect(inner.closes).toBe(1);
      expect(ws.writable()).toBe(0);
    });
  }

  it("fails when the server closes during the handshake, or never answers", async () => {
    const a = opened();
    a.inner.connect();
    a.inner.listener!.onTransportClose(false);
    expect(a.events.closed).toEqual({ error: true, reason: "WebSocket handshake with broker.example:8080/mqtt failed: the server closed the connection during the handshake" });
    const b = opened({ handshakeTimeout: 50 });
    b.inner.connect();
    await until("the handshake timeout", () => b.events.closed !== undefined, 2000);
    expect(b.events.closed).toEqual({ error: true, reason: "WebSocket handshake with broker.example:8080/mqtt failed: no answer to the upgrade request within 50 ms" });
    expect(b.inner.closes).toBe(1);
  });

  it("passes on a failure to connect at all as the inner transport words it", () => {
    const { inner, events } = opened();
    inner.listener!.onTransportClose(true, "cannot resolve \"broker.example\"");
    expect(events.closed).toEqual({ error: true, reason: "cannot resolve \"broker.example\"" });
  });

  it("refuses bad options", () => {
    expect(() => new WebSocketTransport({ transport: new FakeInner(), frameSize: 100 })).toThrow(/frameSize 100 must be 125..65535/);
    expect(() => new WebSocketTransport({ transport: new FakeInner(), path: "mqtt" })).toThrow(/must start with "\/"/);
  });
});

describe("client frames", () => {
  it("each packet goes out as one masked binary frame with a fresh mask; bigger ones split at frameSize", () => {
    const { ws, inner } = opened({ frameSize: 200 });
    answer(inner);
    const small = Uint8Array.from([0x30, 5, 0, 1, 0x61, 0x68, 0x69]);
    const sizes = [7, 125, 126, 200, 201, 1000, 65535 + 10];
    const packets = sizes.map((n) => (n === 7 ? small : Uint8Array.from(randomBytes(n))));
    for (const p of packets) expect(ws.write(p)).toBe(true);
    const frames = inner.frames();
    expect(frames.map((f) => f.payload.length)).toEqual([7, 125, 126, 200, 200, 1, ...[200, 200, 200, 200, 200], ...Array(327).fill(200), 145]);
    expect(frames.every((f) => f.masked && f.fin && f.op === OP.binary)).toBe(true);
    expect(Buffer.concat(frames.map((f) => f.payload))).toEqual(Buffer.concat(packets));
    expect(new Set(frames.map((f) => f.mask)).size).toBe(frames.length);
  });

  it("writes all of a packet or nothing: writable() is what fits after the frame headers", () => {
    const { ws, inner } = opened({ frameSize: 128 });
    answer(inner);
    for (let room = 0; room < 700; room++) {
      inner.room = room;
      const w = ws.writable();
      const before = inner.written.length;
      expect(ws.write(new Uint8Array(w + 1)), `room ${room}: ${w + 1}`).toBe(false);
      expect(inner.written.length).toBe(before);
      if (w > 0) expect(ws.write(new Uint8Array(w)), `room ${room}: ${w}`).toBe(true);
      const wire = inner.written.slice(before).reduce((s, b) => s + b.length, 0);
      expect(wire).toBeLessThanOrEqual(room);
      expect(room - wire, `room ${room}: ${w} bytes fit, ${room - wire} left`).toBeLessThan(w > 0 ? 16 : 8);
    }
  });
});

describe("server frames", () => {
  it("PINGs are answered with their payload, also between fragments and when the window opens later", () => {
    const { ws, inner, events } = opened();
    answer(inner);
    inner.push(frame(OP.ping, Buffer.from("are you there")));
    inner.room = 3;
    inner.push(frame(OP.ping, Buffer.from("later")));
    inner.push(frame(OP.pong, Buffer.from("unasked")));
    let frames = inner.frames();
    expect(frames.map((f) => [f.op, f.payload.toString()])).toEqual([[OP.pong, "are you there"]]);
    inner.room = 100;
    ws.onTransportWritable();
    frames = inner.frames();
    expect(frames.map((f) => [f.op, f.payload.toString()])).toEqual([[OP.pong, "are you there"], [OP.pong, "later"]]);
    expect(frames.every((f) => f.masked)).toBe(true);
    expect(events.closed).toBeUndefined();
    expect(events.writables).toBe(1);
  });

  it("a CLOSE ends the connection with its code and reason, echoing the code", () => {
    const { inner, events } = opened();
    answer(inner);
    inner.push(closeFrame(1001, "going away"));
    expect(events.closed).toEqual({ error: true, reason: "WebSocket closed by the server (code 1001: going away)" });
    expect(inner.frames().map((f) => [f.op, f.payload.readUInt16BE(0)])).toEqual([[OP.close, 1001]]);
    expect(inner.closes).toBe(1);
    const b = opened();
    answer(b.inner);
    b.inner.push(frame(OP.close));
    expect(b.events.closed).toEqual({ error: true, reason: "WebSocket closed by the server (no code)" });
    const c = opened();
    answer(c.inner);
    c.inner.push(closeFrame(1000));
    expect(c.events.closed).toEqual({ error: false, reason: "WebSocket closed by the server (code 1000)" });
  });

  const violations: Array<[string, Buffer[], number, RegExp]> = [
    ["a masked frame", [frame(OP.binary, [1, 2], { mask: true })], 1002, /a masked frame from the server/],
    ["a text frame", [frame(OP.text, Buffer.from("hi"))], 1003, /a text frame \(MQTT travels in binary frames/],
    ["reserved bits", [frame(OP.binary, [1], { rsv: 4 })], 1002, /reserved bits set/],
    ["a continuation with nothing to continue", [frame(OP.continuation, [1])], 1002, /continuation frame with no message to continue/],
    ["a new message inside a fragmented one", [frame(OP.binary, [0x20], { fin: false }), frame(OP.binary, [2])], 1002, /a new message inside a fragmented one/],
    ["a fragmented PING", [frame(OP.ping, [1], { fin: false })], 1002, /fragmented or longer than 125 bytes control frame/],
    ["a 126-byte PING", [frame(OP.ping, new Uint8Array(126))], 1002, /fragmented or longer than 125 bytes control frame/],
    ["opcode 3", [frame(3, [1])], 1002, /unknown opcode 3/],
    ["opcode 11", [frame(11, [1])], 1002, /unknown opcode 11/],
  ];
  for (const [what, frames, code, text] of violations) {
    it(`${what} is a protocol error: close code ${code}, the connection ends, the reason is reported`, () => {
      const { inner, events } = opened();
      answer(inner);
      inner.trickle(Buffer.concat(frames));
      expect(events.closed?.error).toBe(true);
      expect(events.closed?.reason).toMatch(/^WebSocket protocol error: the server sent /);
      expect(events.closed?.reason).toMatch(text);
      expect(inner.frames().map((f) => [f.op, f.payload.readUInt16BE(0)])).toEqual([[OP.close, code]]);
      expect(inner.closes).toBe(1);
    });
  }

  it("close() says goodbye with code 1000 and reports nothing", () => {
    const { ws, inner, events } = opened();
    answer(inner);
    ws.close();
    expect(inner.frames().map((f) => [f.op, f.payload.readUInt16BE(0)])).toEqual([[OP.close, 1000]]);
    expect(inner.closes).toBe(1);
    expect(events.closed).toBeUndefined();
    expect(ws.write(Uint8Array.of(0xc0, 0))).toBe(false);
  });
});

describe("the MQTT stream inside frames, read by the real client", () => {
  const packet = (p: object): Buffer => mqttPacket.generate(p as mqttPacket.Packet);
  const publish = (topic: string, payload: Buffer | string, qos: 0 | 1 = 0) =>
    packet({ cmd: "publish", topic, payload, qos, retain: false, dup: false, ...(qos ? { messageId: 7 } : {}) });

  let client: MQTTClient | undefined;
  afterEach(() => { client?.close(); client = undefined; });

  function connected(rxBuffer = 256): { c: MQTTClient; inner: FakeInner; got: string[]; errors: MQTTError[] } {
    const inner = new FakeInner();
    const c = client = new MQTTClient({ host: "broker.example", port: 80, clientId: "ws-unit", rxBuffer, reconnect: false,
      transport: new WebSocketTransport({ transport: inner }) });
    const got: string[] = [], errors: MQTTError[] = [];
    c.onMessage = (m) => got.push(`${m.topic}=${m.text}`);
    c.onError = (e) => errors.push(e);
    inner.connect();
    return { c, inner, got, errors };
  }

  it("CONNACK fragmented over three frames with a PING between fragments, split headers, 16- and 64-bit lengths: every byte arrives", () => {
    const { c, inner, got, errors } = connected();
    const req = parseRequest(inner.written[0])!;
    const connack = packet({ cmd: "connack", returnCode: 0, sessionPresent: false });
    const p1 = publish("a/b", "one"), p2 = publish("c", "x".repeat(150)), p3 = publish("d", "three", 1);
    const stream = Buffer.concat([
      upgradeResponse(req.headers["sec-websocket-key"]),
      frame(OP.binary, connack.subarray(0, 1), { fin: false }),
      frame(OP.ping, Buffer.from("p")),
      frame(OP.continuation, [], { fin: false }),
      frame(OP.continuation, connack.subarray(1)),
      // Two packets and the start of a third in one frame (16-bit length), the rest in a 64-bit-length frame.
      frame(OP.binary, Buffer.concat([p1, p2, p3.subarray(0, 4)]), { lengthForm: 16 }),
      frame(OP.binary, p3.subarray(4), { lengthForm: 64 }),
      frame(OP.binary, []),
      frame(OP.pong, Buffer.from("unasked")),
    ]);
    inner.trickle(stream, 1);
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(c.connected).toBe(true);
    expect(got).toEqual(["a/b=one", `c=${"x".repeat(150)}`, "d=three"]);
    const out = inner.frames();
    expect(out.map((f) => f.op)).toEqual([OP.binary, OP.pong, OP.binary]); // CONNECT, PONG, PUBACK
    expect(out[1].payload.toString()).toBe("p");
    expect([...out[2].payload]).toEqual([0x40, 2, 0, 7]);
  });

  it("a frame bigger than rxBuffer: its packets that fit are read, an oversize one is skipped with PacketTooLarge", () => {
    const { c, inner, got, errors } = connected(64);
    const req = parseRequest(inner.written[0])!;
    const connack = packet({ cmd: "connack", returnCode: 0, sessionPresent: false });
    const many = Array.from({ length: 20 }, (_, i) => publish("t", `m${i}`));
    const big = Buffer.concat([...many.slice(0, 10), publish("t", "B".repeat(500)), ...many.slice(10)]);
    inner.push(Buffer.concat([upgradeResponse(req.headers["sec-websocket-key"]), frame(OP.binary, connack), frame(OP.binary, big)]));
    expect(c.connected).toBe(true);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `t=m${i}`));
    expect(errors.map((e) => e.code)).toEqual([ErrorCode.PacketTooLarge]);
    // The same, fed in 7-byte pieces.
    inner.trickle(frame(OP.binary, big), 7);
    expect(got).toHaveLength(40);
    expect(errors.map((e) => e.code)).toEqual([ErrorCode.PacketTooLarge, ErrorCode.PacketTooLarge]);
    expect(c.connected).toBe(true);
  });

  it("a CLOSE from the server reaches the client as a lost connection with the server's code and reason", () => {
    const { c, inner, errors } = connected();
    const req = parseRequest(inner.written[0])!;
    const closes: Array<MQTTError | undefined> = [];
    c.onClose = (e) => closes.push(e);
    inner.push(Buffer.concat([upgradeResponse(req.headers["sec-websocket-key"]), frame(OP.binary, packet({ cmd: "connack", returnCode: 0, sessionPresent: false })),
      closeFrame(1011, "internal error")]));
    expect(closes.map((e) => e?.message)).toEqual(["connection lost: WebSocket closed by the server (code 1011: internal error)"]);
    expect(c.connected).toBe(false);
    expect(errors).toHaveLength(0);
  });
});
