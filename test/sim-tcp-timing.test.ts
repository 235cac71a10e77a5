// When the simulated TCP stack lets segments go and acknowledges them: the device's Nagle and delayed ACK as lwip
// does them, the peer's delayed ACK and Nagle as a Linux broker does them. Every case runs on a virtual device clock,
// so "held until the delayed ACK" is a fact about simulated time, not a measurement.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import net from "node:net";
import { Socket } from "../hosts/node/modules/socket.ts";
import { Device } from "../sim/board/device.ts";
import { VirtualClock } from "../sim/board/clock.ts";
import { MQTTClient } from "../src/mqtt/client.ts";
import { SocketTransport } from "../src/net/socket-transport.ts";
import { Mosquitto } from "../sim/brokers/mosquitto.ts";
import { cleanupAfterEach, serveTcp } from "./support/tcp-server.ts";
import { sleep, until } from "./support/wait.ts";

const cleanups = cleanupAfterEach();
/** Real I/O and queued callbacks get this long before a test asserts that nothing arrived. */
const settle = () => sleep(60);
const turn = () => new Promise((r) => setImmediate(r));

function device() {
  const clock = new VirtualClock();
  return { clock, device: new Device({ clock, trace: () => {} }) };
}

/** A legacy socket on `dev` (Nagle on unless noDelay), recording what it receives. */
async function connect(dev: Device, port: number, noDelay = false) {
  const received: number[] = [];
  const socket = dev.run(() => new Socket({ address: "127.0.0.1", port, noDelay }));
  let connected = false;
  socket.callback = function (message: number) {
    if (message === Socket.connected) connected = true;
    else if (message === Socket.readable) received.push(...new Uint8Array(this.read(ArrayBuffer)));
  };
  cleanups.push(() => socket.close());
  await until("connected", () => connected);
  return { socket, received };
}

/** A peer that answers nothing, sends at once (no Nagle of its own on the host) and records what arrives. */
async function silentPeer() {
  const srv = await serveTcp(cleanups, (c) => c.setNoDelay(true));
  return { ...srv, text: () => srv.bytes().toString() };
}

describe("device side (lwip): Nagle", () => {
  it("a write while sent bytes are unacknowledged waits for the peer's ACK, which a silent peer delays", async () => {
    const { clock, device: dev } = device();
    const peer = await silentPeer();
    const { socket } = await connect(dev, peer.port);
    socket.write("a");
    await until("the first write at the peer", () => peer.text() === "a");
    socket.write("b"); // a later turn: "a" is still unacknowledged
    await settle();
    clock.advance(dev.network.peerAckDelayMs - 1);
    await settle();
    expect(peer.text()).toBe("a");
    clock.advance(1); // the peer's delayed ACK for "a" frees "b"
    await until("the held write after the peer's delayed ACK", () => peer.text() === "ab");
  });

  it("with noDelay the same writes leave at once", async () => {
    const { device: dev } = device();
    const peer = await silentPeer();
    const { socket } = await connect(dev, peer.port, true);
    socket.write("a");
    await until("a", () => peer.text() === "a");
    socket.write("b");
    await until("b without any time passing", () => peer.text() === "ab");
  });

  it("writes of one turn share a segment, so Nagle never splits them", async () => {
    const { device: dev } = device();
    const peer = await silentPeer();
    const { socket } = await connect(dev, peer.port);
    socket.write("a");
    socket.write("b", "c");
    await until("all three without any time passing", () => peer.text() === "abc");
  });

  it("a peer that answers acknowledges with its answer: the held write leaves with no delay", async () => {
    const { device: dev } = device();
    const peer = await serveTcp(cleanups, (c) => { c.setNoDelay(true); c.on("data", (d) => c.write(d)); });
    const { socket, received } = await connect(dev, peer.port);
    socket.write("a");
    await turn();
    socket.write("b");
    await until("both echoed without any time passing", () => received.length === 2);
    expect(Buffer.from(received).toString()).toBe("ab");
  });
});

describe("peer side (a Linux broker with Nagle): held until the device acknowledges", () => {
  it("the peer's second small write waits for the device's ACK: with the device's next data, or lwip's fast timer", async () => {
    const { clock, device: dev } = device();
    const peer = await silentPeer();
    const { socket, received } = await connect(dev, peer.port);
    const conn = peer.conns[0];
    conn.write("1");
    await until("the first", () => received.length === 1);
    conn.write("2"); // "1" is unacknowledged: lwip delays its ACK
    await settle();
    expect(received).toEqual([0x31]);
    socket.write("x"); // the ACK rides on the device's data
    await until("the second, released by the device's data", () => received.length === 2);

    conn.write("3");
    await settle();
    expect(received.length).toBe(2);
    const tick = dev.network.ackTimerMs;
    clock.advance(tick - (clock.now() % tick)); // tcp_fasttmr sends the delayed ACK
    await until("the third, released by the fast timer", () => received.length === 3);
  });

  it("peerNagle off: the peer's writes come as they are made", async () => {
    const { device: dev } = device();
    dev.network.peerNagle = false;
    const peer = await silentPeer();
    const { received } = await connect(dev, peer.port);
    peer.conns[0].write("1");
    await until("the first", () => received.length === 1);
    peer.conns[0].write("2");
    await until("the second without an ACK", () => received.length === 2);
  });
});

/** The client over the legacy socket (Nagle on), with a transport that writes each packet's fixed header on one
 *  turn and the rest on the next: what a client that streams a body after its header does. */
class SplitWrites extends SocketTransport {
  override write(packet: Uint8Array): boolean {
    if (packet.length > this.writable()) return false;
    const rest = packet.slice(2);
    if (!super.write(packet.subarray(0, 2))) return false;
    setImmediate(() => super.write(rest));
    return true;
  }
}

describe("MQTT through mosquitto (default settings) on the simulated stack", () => {
  let broker: Mosquitto;
  beforeAll(async () => { broker = await Mosquitto.start(); });
  afterAll(async () => { await broker?.close(); });

  /** Connects a client on a virtual-clock device, publishes one QoS 1 message and reports when it is acknowledged. */
  async function publishOnce(transport: SocketTransport, id: string) {
    const { clock, device: dev } = device();
    const client = dev.run(() => new MQTTClient({ host: "127.0.0.1", port: broker.port, clientId: id, reconnect: false, transport }));
    cleanups.push(() => dev.run(() => client.close()));
    let connected = false, delivered = false;
    client.onConnect = () => { connected = true; };
    client.onDelivered = () => { delivered = true; };
    await settle();
    clock.advance(dev.network.peerAckDelayMs); // a split CONNECT waits for it too
    await until("CONNACK", () => connected);
    dev.run(() => client.publish("xsmq/nagle", "reading 42", 1));
    await settle();
    return { clock, dev, delivered: () => delivered };
  }

  it("a PUBLISH written whole is acknowledged with no time passing", async () => {
    const { delivered } = await publishOnce(new SocketTransport(), "nagle-whole");
    await until("PUBACK with the virtual clock standing still", delivered);
  });

  it("a PUBLISH written as header, then body on the next turn, waits for the broker's delayed ACK (the lock-step)", async () => {
    const { clock, dev, delivered } = await publishOnce(new SplitWrites(), "nagle-split");
    expect(delivered()).toBe(false); // the body is held: the broker does not acknowledge a lone header
    clock.advance(dev.network.peerAckDelayMs);
    await until("PUBACK after the broker's delayed ACK", delivered);
  });
});
