// XS entry for test/xs-client and bench/xs: the real src/mqtt client inside XS, driven by calls from Node.
// Steady-state loops are paced by the client's own queue so nothing is dropped, and they allocate nothing
// of their own: any retained growth measured around them belongs to the client.
import Timer from "timer";
import TCP from "embedded:io/socket/tcp";
import { MQTTClient, type Message } from "../../../src/mqtt/client";
import { SocketTransport } from "../../../src/net/socket-transport";
import { WebSocketTransport } from "../../../src/net/ws-transport";
import { probed } from "./meter.ts";

export { probed };

let client: MQTTClient | undefined;
let received = 0;
let delivered = 0;
let errors = 0;
let lastError = "";
/** Resolves a waiting call once `received`/`delivered` reach a target; cleared when done (nothing retained). */
let waiter: (() => boolean) | undefined;
let wake: (() => void) | undefined;
const topicBuffer: string[] = [];

function check(): void {
  if (waiter && waiter()) {
    const w = wake!;
    waiter = undefined;
    wake = undefined;
    w();
  }
}

function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    // Checked on every client event, and every 5 ms for conditions no event announces (e.g. a PUBREL handled).
    const poll = Timer.repeat(check, 5);
    const timer = Timer.set(() => {
      Timer.clear(poll);
      waiter = undefined;
      wake = undefined;
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (received ${received}, delivered ${delivered}, errors ${errors}: ${lastError})`));
    }, timeoutMs);
    waiter = condition;
    wake = () => { Timer.clear(timer); Timer.clear(poll); resolve(); };
  });
}

function onMessage(m: Message): void {
  received++;
  if (topicBuffer.length < 64) topicBuffer.push(`${m.topic} q${m.qos} ${m.text}`);
  check();
}

function onCount(_m: Message): void {
  received++;
  check();
}

/** Connects a client with default buffers to the broker at 127.0.0.1:port, over TcpTransport (default), SocketTransport or WebSocket over TCP. */
export async function connect(port: number, clientId: string, options: { keepalive?: number; inflightIn?: number; transport?: "tcp" | "socket" | "ws"; protocolVersion?: 4 | 5 } = {}): Promise<{ sessionPresent: boolean }> {
  let sessionPresent = false;
  let connected = false;
  client?.close();
  const transport = options.transport === "socket" ? new SocketTransport() : options.transport === "ws" ? new WebSocketTransport() : undefined;
  client = new MQTTClient({ host: "127.0.0.1", port, clientId, keepalive: options.keepalive ?? 60, reconnect: false, inflightIn: options.inflightIn, transport,
    ...(options.protocolVersion === 5 ? { protocolVersion: 5 as const } : {}) });
  client.onConnect = (present) => { sessionPresent = present; connected = true; check(); };
  client.onDelivered = () => { delivered++; check(); };
  client.onError = (e) => { errors++; lastError = e.message; };
  await until(() => connected, 5000, "CONNACK");
  return { sessionPresent };
}

/** Subscribes to `filter`; `collect` keeps the first messages' text for the test to read (allocates), else only counts. */
export async function subscribe(filter: string, qos: 0 | 1 | 2, collect: boolean): Promise<number> {
  const c = client!;
  let granted = -1;
  c.onSubscribe = (f, g) => { if (f === filter) { granted = g; check(); } };
  c.subscribe(filter, qos, collect ? onMessage : onCount);
  await until(() => granted >= 0, 5000, `SUBACK for ${filter}`);
  c.onSubscribe = undefined;
  return granted;
}

/** Publishes `count` messages "i" to `topic` at `qos`, never overrunning the client's queue; resolves when all are out (QoS 0) or acknowledged. */
export async function publish(topic: string, qos: 0 | 1 | 2, count: number, payload?: string): Promise<{ delivered: number; errors: number }> {
  const c = client!;
  const target = delivered + (qos > 0 ? count : 0);
  let sent = 0;
  // One reused timer paces the loop: publish while the client has nothing waiting, then yield to the event loop.
  const pace = Timer.repeat(() => {
    while (sent < count && c.session.queued === 0) {
      if (c.publish(topic, payload ?? sent, qos) < 0) throw new Error(`publish ${sent} was dropped`);
      sent++;
    }
    check();
  }, 1);
  try {
    await until(() => sent === count && c.session.queued === 0 && delivered >= target, 60000, `${count} QoS ${qos} publishes`);
  } finally {
    Timer.clear(pace);
  }
  return { delivered: delivered - (target - (qos > 0 ? count : 0)), errors };
}

/**
 * Waits until `total` messages have arrived (the Node side publishes them) and, with `settled`, until no
 * incoming QoS 2 exchange is still waiting for its PUBREL.
 */
export async function waitReceived(total: number, timeoutMs = 30000, settled = false): Promise<number> {
  // The session's incoming QoS 2 ids awaiting PUBREL (a private field: this is a test harness).
  const session = client!.session as unknown as { pubrelPendingCount: number };
  await until(() => received >= total && (!settled || session.pubrelPendingCount === 0), timeoutMs, `${total} received messages`);
  return received;
}

export function counts(): { received: number; delivered: number; errors: number; lastError: string } {
  return { received, delivered, errors, lastError };
}

/** The first messages collected by `subscribe(..., true)`. */
export function collected(): string[] { return topicBuffer.slice(); }

/**
 * Bytes of every distinct ArrayBuffer the client reaches (rx, tx, in-flight slots, queue, transport staging, ...):
 * the "buffer bytes" half of the client's footprint, found by walking its object graph.
 */
export function bufferBytes(): number {
  const seen = new Set<unknown>();
  const buffers = new Set<ArrayBufferLike>();
  const walk = (value: unknown): void => {
    if (value === null || (typeof value !== "object" && typeof value !== "function") || seen.has(value)) return;
    seen.add(value);
    if (value instanceof ArrayBuffer) { buffers.add(value); return; }
    if (ArrayBuffer.isView(value)) { buffers.add(value.buffer); return; }
    if (typeof value === "function") return;
    for (const key of Reflect.ownKeys(value as object)) {
      const d = Object.getOwnPropertyDescriptor(value, key);
      if (d && "value" in d) walk(d.value);
    }
  };
  walk(client);
  let total = 0;
  // A resizable buffer (the transport's staging) counts at its maximum size.
  for (const b of buffers) total += (b as ArrayBuffer & { resizable?: boolean }).resizable ? (b as ArrayBuffer & { maxByteLength: number }).maxByteLength : b.byteLength;
  return total;
}

let standInSocket: TCP | undefined;
let standInTimer: Timer | undefined;

/** A timer's longest interval: the stand-in timer is parked long before it could fire. */
const LONGEST_INTERVAL_MS = 0x7fffffff;

/**
 * The host's stand-ins for the native objects a connected client holds (one TCP socket, one timer), made bare so
 * the footprint can count them apart: on a board they are native.
 */
export function standIns(port: number): Promise<void> {
  return new Promise((resolve) => {
    standInTimer = Timer.repeat(() => {}, LONGEST_INTERVAL_MS);
    Timer.schedule(standInTimer);
    standInSocket = new TCP({ address: "127.0.0.1", port, onWritable() { resolve(); }, onReadable() {}, onError() {} });
  });
}

export function dropStandIns(): void {
  standInSocket?.close();
  standInSocket = undefined;
  Timer.clear(standInTimer);
  standInTimer = undefined;
}

export function close(): void {
  client?.close();
  client = undefined;
}

/** Internal state for diagnosing a stall (allocates). */
export function inspect(): Record<string, unknown> {
  const c = client as any;
  if (!c) return {};
  const s = c.session;
  return {
    state: c.state, queued: s.queued, controlCount: s.controlCount, pubrelPendingCount: s.pubrelPendingCount,
    pubrelPending: Array.from(s.pubrelPending), writable: c.transport.writable(), inflightStates: Array.from(s.inflight.states ?? []),
  };
}
