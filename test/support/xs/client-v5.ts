// XS entry for test/client-v5-xs.test.ts: the real client inside the XS engine speaking MQTT 5.0 to mosquitto,
// reading each message's 5.0 fields through Message's getters in XS, publishing with a Properties made once.
import Timer from "timer";
import { MQTTClient, Properties, type Message } from "../../../src/mqtt/client";

let client: MQTTClient | undefined;
const seen: string[] = [];
const errors: string[] = [];
let delivered = 0;

/** Resolves when `condition` holds, checking every 5 ms; rejects after `timeoutMs`. */
function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = Timer.repeat(() => {
      if (condition()) { Timer.clear(poll); resolve(); }
      else if (Date.now() - started > timeoutMs) { Timer.clear(poll); reject(new Error(`timed out waiting for ${what}; errors: ${errors.join("; ")}`)); }
    }, 5);
  });
}

function hex(b: Uint8Array | undefined): string {
  if (!b) return "-";
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
  return s;
}

function onMessage(m: Message): void {
  const up = m.userProperties, keys = Object.keys(up).sort();
  seen.push([m.topic, m.qos, m.text, m.contentType ?? "-", m.responseTopic ?? "-", hex(m.correlationData),
    keys.map((k) => `${k}=${up[k]}`).join(","), m.subscriptionId, m.payloadFormat, m.messageExpiry > 0 ? "expiry" : "none",
    m.contentTypeIs("application/json") ? "json" : "other"].join("|"));
}

export async function connect(port: number, clientId: string): Promise<Record<string, unknown>> {
  client = new MQTTClient({ host: "127.0.0.1", port, clientId, keepalive: 30, reconnect: false, rxBuffer: 1024, txBuffer: 1024, inflight: 4, queue: 4096,
    protocolVersion: 5, properties: { sessionExpiryInterval: 0, userProperties: { runtime: "xs" } } });
  client.onError = (e) => { errors.push(e.message); };
  client.onDelivered = () => { delivered++; };
  const c = client;
  await until(() => c.connected, 5000, "CONNACK");
  const s = c.server;
  return { receiveMaximum: s.receiveMaximum, topicAliasMaximum: s.topicAliasMaximum, maximumQoS: s.maximumQoS, retainAvailable: s.retainAvailable };
}

export async function subscribe(filter: string, qos: 0 | 1 | 2, subscriptionIdentifier: number): Promise<number> {
  const c = client!;
  let granted = -1;
  c.onSubscribe = (f, g) => { if (f === filter) granted = g; };
  c.subscribe(filter, { qos, subscriptionIdentifier }, onMessage);
  await until(() => granted >= 0, 5000, `SUBACK for ${filter}`);
  c.onSubscribe = undefined;
  return granted;
}

/** Publishes `count` QoS `qos` messages with one Properties (content type, user property, correlation data) made once. */
export async function publish(topic: string, qos: 0 | 1 | 2, count: number): Promise<number> {
  const c = client!;
  const props = new Properties({ contentType: "application/json", userProperties: { from: "xs" }, correlationData: new Uint8Array([1, 2, 3]), payloadFormatIndicator: true });
  const target = delivered + (qos > 0 ? count : 0);
  for (let i = 0; i < count; i++) c.publish(topic, `{"i":${i}}`, { qos, properties: props });
  await until(() => delivered >= target && c.session.queued === 0, 10000, `${count} publishes`);
  return errors.length;
}

export async function waitSeen(n: number): Promise<string[]> {
  await until(() => seen.length >= n, 10000, `${n} messages`);
  return seen.slice();
}

export function errorsSeen(): string[] { return errors.slice(); }

export function close(): void { client?.close({ reasonCode: 0 }); client = undefined; }
