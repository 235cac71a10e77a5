// The client over WebSocketTransport (src/net/ws-transport.ts) on the simulator's TCP stack, against real servers:
// mosquitto's websockets listener and aedes behind npm `ws` (QoS 0/1/2 round trips, byte for byte, packets bigger
// than a frame), a PING and a CLOSE from a real WebSocket server, and a hand-written server for the odd frames:
// fragments with a PING between them, a frame bigger than rxBuffer, a CLOSE with a code, masks on every frame.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server, type Socket } from "node:net";
import { once } from "node:events";
import { Aedes } from "aedes";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { WebSocketServer, createWebSocketStream, type WebSocket } from "ws";
import { MQTTClient, ErrorCode, type Message, type MQTTError } from "../src/mqtt/client";
import { WebSocketTransport } from "../src/net/ws-transport";
import type { Transport } from "../src/net/transport";
import { TcpTransport } from "../src/net/tcp-transport";
import { SocketTransport } from "../src/net/socket-transport";
import { Mosquitto, freePort } from "../sim/brokers/mosquitto.ts";
import { OP, closeFrame, frame, parseFrames, parseRequest, upgradeResponse, type ClientFrame } from "./support/ws-frames.ts";
import { until } from "./support/wait.ts";
import { XSHost, esp8266 } from "../sim/xs/host.ts";

type Options = ConstructorParameters<typeof MQTTClient>[0];

const cleanup: Array<() => unknown> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

function client(port: number, id: string, extra: Partial<Options> = {}, ws: ConstructorParameters<typeof WebSocketTransport>[0] = {}): MQTTClient {
  const c = new MQTTClient({
    host: "127.0.0.1", port, clientId: id, keepalive: 30, rxBuffer: 4096, txBuffer: 4096, inflight: 16, inflightIn: 256, queue: 500_000,
    reconnect: { min: 50, max: 300 }, transport: new WebSocketTransport({ transport: new TcpTransport(512), ...ws }), ...extra,
  });
  cleanup.push(() => c.close());
  return c;
}

function payload(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k * 7) & 255;
  return b;
}

/** Publishes `count` messages from one WebSocket client to another through the broker on `port`; checks each byte. */
async function roundTrip(port: number, name: string, qos: 0 | 1 | 2, size: number, count: number, inner?: () => Transport): Promise<void> {
  const topic = `ws/${name}/q${qos}/${size}`;
  const sub = client(port, `${name}-sub-${qos}-${size}`, {}, inner ? { transport: inner() } : {});
  const pub = client(port, `${name}-pub-${qos}-${size}`, {}, inner ? { transport: inner() } : {});
  const got: Uint8Array[] = [], errors: MQTTError[] = [];
  sub.onError = pub.onError = (e) => errors.push(e);
  let granted = -1;
  sub.onSubscribe = (_f, g) => { granted = g; };
  sub.subscribe(topic, qos, (m: Message) => {
    const copy = new Uint8Array(m.length);
    for (let k = 0; k < m.length; k++) copy[k] = m.byte(k);
    got.push(copy);
  });
  await until("SUBACK", () => granted >= 0);
  expect(granted).toBe(qos);
  await until("publisher connected", () => pub.connected);
  const delivered: number[] = [];
  pub.onDelivered = (id) => delivered.push(id);
  for (let i = 0; i < count; i++) expect(pub.publish(topic, payload(i, size), qos)).toBeGreaterThanOrEqual(0);
  await until(`${count} messages`, () => got.length >= count, 15000);
  const bad = got.findIndex((g, i) => Buffer.compare(g, payload(i, size)) !== 0);
  expect(bad).toBe(-1);
  expect(got.length).toBe(count);
  if (qos > 0) await until("all acknowledged", () => delivered.length === count);
  expect(errors.map((e) => e.message)).toEqual([]);
}

describe("over mosquitto's websockets listener", () => {
  let broker: Mosquitto;
  let wsPort = 0;
  beforeAll(async () => {
    wsPort = await freePort();
    // `lo`: libwebsockets binds an interface (an address would be taken as one); mosquitto 2.0 needs its plain
    // listener too (a websockets listener alone is "no listening sockets").
    broker = await Mosquitto.start({ config: [`listener ${wsPort} lo`, "protocol websockets"] });
  });
  afterAll(async () => { await broker?.close(); });

  for (const qos of [0, 1, 2] as const) {
    for (const size of [16, 3000]) {
      it(`round-trips 150 QoS ${qos} messages of ${size} B in order, byte for byte`, async () => {
        await roundTrip(wsPort, "mosq", qos, size, 150);
      });
    }
  }

  it("inside the real XS engine (ESP8266 slot budget): QoS 0/1/2 round trips, MQTT.js's messages in, no slots kept per message", async () => {
    const xs = await XSHost.start({ entry: "sim/xs/entries/client.ts", slotBudget: esp8266.appSlotBudget });
    cleanup.push(() => xs.close());
    const peer = await mqtt.connectAsync(`ws://127.0.0.1:${wsPort}/mqtt`, { clientId: "ws-xs-peer", reconnectPeriod: 0 });
    cleanup.push(() => peer.endAsync().catch(() => undefined));
    expect(await xs.call("connect", wsPort, "ws-xs", { transport: "ws" })).toEqual({ sessionPresent: false });
    expect(await xs.call("subscribe", "wsxs/#", 2, true)).toBe(2);
    for (const qos of [0, 1, 2] as const) {
      expect(await xs.call("publish", `wsxs/q${qos}`, qos, 5)).toEqual({ delivered: qos > 0 ? 5 : 0, errors: 0 });
    }
    for (const qos of [0, 1, 2] as const) await peer.publishAsync(`wsxs/peer/q${qos}`, `hello ${qos}`, { qos });
    await xs.call("waitReceived", 18, 10_000);
    expect(await xs.call("collected")).toEqual([
      ...[0, 1, 2].flatMap((q) => [0, 1, 2, 3, 4].map((i) => `wsxs/q${q} q${q} ${i}`)),
      ...[0, 1, 2].map((q) => `wsxs/peer/q${q} q${q} hello ${q}`),
    ]);
    // Steady QoS 1 publishing and receiving over WebSocket keeps nothing.
    expect(await xs.call("subscribe", "wsxs-steady", 1, false)).toBe(1);
    await xs.call("publish", "wsxs-steady", 1, 50);
    await xs.call("waitReceived", 18 + 50, 10_000, true);
    const start = await xs.liveSlots();
    await xs.call("publish", "wsxs-steady", 1, 500);
    await xs.call("waitReceived", 18 + 550, 20_000, true);
    const grown = (await xs.liveSlots()) - start;
    expect(grown, `${grown} slots kept after 500 publish+receive round trips`).toBeLessThanOrEqual(0);
    expect(xs.faults).toEqual([]);
    expect(await xs.call("counts")).toMatchObject({ errors: 0 });
  });

  it("works over Moddable's legacy socket too: 100 QoS 1 messages of 3000 B", async () => {
    await roundTrip(wsPort, "mosq-socket", 1, 3000, 100, () => new SocketTransport());
  });

  it("the port speaks WebSocket only: plain MQTT on it fails, and so does the WebSocket client on the MQTT port", async () => {
    const plain = new MQTTClient({ host: "127.0.0.1", port: wsPort, clientId: "ws-plain", reconnect: false, connectTimeout: 500 });
    cleanup.push(() => plain.close());
    const errors: MQTTError[] = [];
    plain.onError = (e) => errors.push(e);
    const overWs = client(broker.port, "ws-on-mqtt-port", { reconnect: false }, { handshakeTimeout: 500 });
    const wsErrors: MQTTError[] = [];
    overWs.onClose = (e) => { if (e) wsErrors.push(e); };
    await until("both fail", () => errors.length > 0 && wsErrors.length > 0, 5000);
    // libwebsockets answers CONNECT with an HTTP error ("HTTP/1.1 400": 'H' reads as a PUBACK); mosquitto drops "GET".
    expect(plain.connected).toBe(false);
    expect(errors[0].message).toMatch(/^malformed packet: PUBACK \(\d+ bytes\) from the broker/);
    expect(wsErrors[0].message).toBe(`connection lost: WebSocket handshake with 127.0.0.1:${broker.port}/mqtt failed: the server closed the connection during the handshake`);
  });
});

/** aedes behind a `ws` WebSocketServer on 127.0.0.1 (subprotocol mqtt accepted). */
async function aedesOverWs(): Promise<{ port: number; sockets: WebSocket[]; pongs: Buffer[] }> {
  const broker = await Aedes.createBroker();
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: (p) => (p.has("mqtt") ? "mqtt" : false) });
  const sockets: WebSocket[] = [], pongs: Buffer[] = [];
  wss.on("connection", (socket) => {
    sockets.push(socket);
    socket.on("pong", (data) => pongs.push(data));
    broker.handle(createWebSocketStream(socket) as never);
  });
  await once(wss, "listening");
  cleanup.push(() => new Promise<void>((r) => {
    for (const s of wss.clients) s.terminate();
    broker.close(() => wss.close(() => r()));
  }));
  return { port: (wss.address() as { port: number }).port, sockets, pongs };
}

describe("over aedes behind a ws WebSocket server", () => {
  for (const qos of [0, 1, 2] as const) {
    for (const size of [16, 3000]) {
      it(`round-trips 100 QoS ${qos} messages of ${size} B in order, byte for byte`, async () => {
        const { port } = await aedesOverWs();
        await roundTrip(port, "aedes", qos, size, 100);
      });
    }
  }

  it("answers the server's PING with its payload, and stays connected", async () => {
    const server = await aedesOverWs();
    const c = client(server.port, "ws-ping");
    await until("connected", () => c.connected);
    server.sockets[0].ping(Buffer.from("ping-42"));
    await until("the PONG", () => server.pongs.length > 0);
    expect(server.pongs.map(String)).toEqual(["ping-42"]);
    expect(c.connected).toBe(true);
  });

  it("a CLOSE from the server is reported with its code and reason, and the client reconnects", async () => {
    const server = await aedesOverWs();
    const c = client(server.port, "ws-close");
    const closes: MQTTError[] = [];
    c.onClose = (e) => { if (e) closes.push(e); };
    await until("connected", () => c.connected);
    const codes: number[] = [];
    server.sockets[0].on("close", (code) => codes.push(code));
    server.sockets[0].close(1001, "going away");
    await until("the close reported", () => closes.length > 0);
    expect(closes[0].message).toBe("connection lost: WebSocket closed by the server (code 1001: going away)");
    await until("the server saw the close handshake", () => codes.length > 0);
    expect(codes).toEqual([1001]); // the client echoed the code
    await until("reconnected", () => c.connected && server.sockets.length === 2);
  });
});

/**
 * A WebSocket server written out by hand: the upgrade, then a tiny broker (CONNACK, SUBACK) over frames the test
 * shapes itself. Records every frame the client sends.
 */
class HandServer {
  readonly frames: ClientFrame[] = [];
  readonly packets: mqttPacket.Packet[] = [];
  socket: Socket | undefined;
  private constructor(readonly server: Server, readonly port: number) {}

  static async start(): Promise<HandServer> {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const h = new HandServer(server, (server.address() as { port: number }).port);
    server.on("connection", (s) => h.accept(s));
    cleanup.push(() => new Promise<void>((r) => { h.socket?.destroy(); server.close(() => r()); }));
    return h;
  }

  private accept(s: Socket): void {
    this.socket = s;
    s.setNoDelay(true);
    let buf = Buffer.alloc(0), upgraded = false;
    const parser = mqttPacket.parser();
    parser.on("packet", (p) => {
      this.packets.push(p);
      if (p.cmd === "connect") this.send(mqttPacket.generate({ cmd: "connack", returnCode: 0, sessionPresent: false }));
      if (p.cmd === "subscribe") this.send(mqttPacket.generate({ cmd: "suback", messageId: p.messageId, granted: p.subscriptions.map((x) => x.qos) }));
    });
    s.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const req = parseRequest(buf);
        if (!req) return;
        upgraded = true;
        buf = buf.subarray(req.length);
        s.write(upgradeResponse(req.headers["sec-websocket-key"]));
      }
      const { frames, rest } = parseFrames(buf);
      buf = Buffer.from(rest);
      for (const f of frames) {
        this.frames.push(f);
        if (f.op === OP.binary) parser.parse(f.payload);
      }
    });
    s.on("error", () => {});
  }

  /** One MQTT packet in one binary frame. */
  send(packet: Buffer): void { this.raw(frame(OP.binary, packet)); }
  raw(bytes: Buffer): void { this.socket!.write(bytes); }
}

describe("odd frames from a hand-written server", () => {
  function subscribed(h: HandServer, rxBuffer: number): { c: MQTTClient; got: string[]; errors: MQTTError[]; ready: () => boolean } {
    const c = client(h.port, `ws-hand-${rxBuffer}`, { rxBuffer, reconnect: false });
    const got: string[] = [], errors: MQTTError[] = [];
    let granted = -1;
    c.onError = (e) => errors.push(e);
    c.onSubscribe = (_f, g) => { granted = g; };
    c.subscribe("odd/#", 1, (m) => got.push(`${m.topic}=${m.text}`));
    return { c, got, errors, ready: () => granted === 1 };
  }
  const publish = (topic: string, text: string, qos: 0 | 1 = 0, messageId = 1): Buffer =>
    mqttPacket.generate({ cmd: "publish", topic, payload: Buffer.from(text), qos, retain: false, dup: false, ...(qos ? { messageId } : {}) });

  it("fragmented messages, a PING between fragments, packets split across frames: all arrive, the PONG echoes the PING", async () => {
    const h = await HandServer.start();
    const { got, errors, ready } = subscribed(h, 256);
    await until("SUBACK", ready);
    const a = publish("odd/a", "alpha"), b = publish("odd/b", "bravo", 1, 9), c = publish("odd/c", "x".repeat(200));
    h.raw(Buffer.concat([
      frame(OP.binary, a.subarray(0, 3), { fin: false }),
      frame(OP.ping, Buffer.from("between")),
      frame(OP.continuation, a.subarray(3, 5), { fin: false }),
      frame(OP.continuation, Buffer.concat([a.subarray(5), b.subarray(0, 1)])),
      frame(OP.binary, Buffer.concat([b.subarray(1), c.subarray(0, 100)]), { lengthForm: 64 }),
      frame(OP.binary, c.subarray(100), { lengthForm: 16 }),
    ]));
    await until("3 messages", () => got.length === 3);
    expect(got).toEqual(["odd/a=alpha", "odd/b=bravo", `odd/c=${"x".repeat(200)}`]);
    await until("the PUBACK", () => h.packets.some((p) => p.cmd === "puback"));
    expect(h.packets.find((p) => p.cmd === "puback")).toMatchObject({ messageId: 9 });
    const pongs = h.frames.filter((f) => f.op === OP.pong);
    expect(pongs.map((f) => f.payload.toString())).toEqual(["between"]);
    expect(errors).toEqual([]);
  });

  it("every client frame is masked, each with its own mask", async () => {
    const h = await HandServer.start();
    const { c, ready } = subscribed(h, 256);
    await until("SUBACK", ready);
    for (let i = 0; i < 50; i++) c.publish("odd/m", `m${i}`, 0);
    c.publish("odd/big", payload(1, 2000), 0); // 8 frames of 256 B
    await until("all publishes", () => h.packets.filter((p) => p.cmd === "publish").length === 51);
    expect(h.frames.length).toBeGreaterThanOrEqual(2 + 50 + 8);
    expect(h.frames.every((f) => f.masked)).toBe(true);
    expect(new Set(h.frames.map((f) => f.mask)).size).toBe(h.frames.length);
    const big = h.packets.find((p) => p.cmd === "publish" && p.topic === "odd/big") as mqttPacket.IPublishPacket;
    expect(Buffer.compare(big.payload as Buffer, payload(1, 2000))).toBe(0);
  });

  it("a frame larger than rxBuffer: the packets in it that fit arrive, the oversize one is skipped with PacketTooLarge", async () => {
    const h = await HandServer.start();
    const { c, got, errors, ready } = subscribed(h, 64);
    await until("SUBACK", ready);
    const small = Array.from({ length: 100 }, (_, i) => publish("odd/s", `s${i}`));
    h.raw(frame(OP.binary, Buffer.concat([...small.slice(0, 50), publish("odd/big", "B".repeat(1000)), ...small.slice(50)])));
    await until("100 messages", () => got.length === 100);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `odd/s=s${i}`));
    expect(errors.map((e) => e.code)).toEqual([ErrorCode.PacketTooLarge]);
    expect(c.connected).toBe(true);
  });

  it("a CLOSE with a code and reason: reported, echoed, the connection ends", async () => {
    const h = await HandServer.start();
    const { c, ready } = subscribed(h, 256);
    const closes: MQTTError[] = [];
    c.onClose = (e) => { if (e) closes.push(e); };
    await until("SUBACK", ready);
    h.raw(closeFrame(4000, "maintenance"));
    await until("the close reported", () => closes.length > 0);
    expect(closes[0].message).toBe("connection lost: WebSocket closed by the server (code 4000: maintenance)");
    await until("the echo", () => h.frames.some((f) => f.op === OP.close));
    expect(h.frames.filter((f) => f.op === OP.close).map((f) => f.payload.readUInt16BE(0))).toEqual([4000]);
    expect(c.connected).toBe(false);
  });

  it("a text frame is a protocol violation: the client closes with 1003 and says why", async () => {
    const h = await HandServer.start();
    const { c, ready } = subscribed(h, 256);
    const closes: MQTTError[] = [];
    c.onClose = (e) => { if (e) closes.push(e); };
    await until("SUBACK", ready);
    h.raw(frame(OP.text, Buffer.from("hello")));
    await until("the close reported", () => closes.length > 0);
    expect(closes[0].message).toMatch(/WebSocket protocol error: the server sent a text frame/);
    await until("the close frame", () => h.frames.some((f) => f.op === OP.close));
    expect(h.frames.filter((f) => f.op === OP.close).map((f) => f.payload.readUInt16BE(0))).toEqual([1003]);
  });
});
