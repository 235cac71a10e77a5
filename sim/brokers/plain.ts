// A plain local MQTT broker for `xsmq sim` with apps that talk to any broker (the mqtt template): aedes on a
// loopback port, every topic allowed, retained messages kept, a login checked when users are given
// (a wrong password gets CONNACK 5, as mosquitto answers).
import { Aedes, type AuthenticateError } from "aedes";
import { AedesListener } from "./aedes-listener.ts";

export interface PlainPublish { clientId: string; topic: string; payload: string }

export interface PlainBroker {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** Calls `fn` for every PUBLISH a client sends; returns a function that stops it. */
  onPublish(fn: (e: PlainPublish) => void): () => void;
  /** Publishes as the broker itself (QoS 1), e.g. a dashboard's retained setting. */
  publish(topic: string, payload: string, retain?: boolean): void;
  /** Drops every client, stays down `downMs`, then listens on the same port; retained messages are kept. */
  restart(options?: { downMs?: number }): Promise<void>;
  close(): Promise<void>;
}

export async function startPlainBroker(options: { users?: Record<string, string>; host?: string; port?: number } = {}): Promise<PlainBroker> {
  const users = options.users;
  const listeners = new Set<(e: PlainPublish) => void>();
  const retained = new Map<string, string>();
  let closed = false;
  const listener = new AedesListener(options.host ?? "127.0.0.1", options.port ?? 0, async () => {
    const b = await Aedes.createBroker({
      heartbeatInterval: 3_600_000,
      authenticate: (_client, username, password, done) => {
        if (!users || (username !== undefined && Object.hasOwn(users, username) && users[username] === (password?.toString("utf8") ?? ""))) return done(null, true);
        done(Object.assign(new Error("not authorized"), { returnCode: 5 as AuthenticateError["returnCode"] }), false);
      },
    });
    b.on("publish", (packet, client) => {
      if (!client) return;
      const payload = packet.payload.toString();
      if (packet.retain) retained.set(packet.topic, payload);
      for (const fn of listeners) fn({ clientId: client.id, topic: packet.topic, payload });
    });
    // A restart loses sessions, not retained messages (mosquitto keeps them in its persistence file).
    for (const [topic, payload] of retained) b.publish({ cmd: "publish", topic, payload: Buffer.from(payload), qos: 1, retain: true, dup: false }, () => {});
    return b;
  });
  await listener.start();
  return {
    host: listener.host,
    get port() { return listener.port; },
    get url() { return `mqtt://${listener.host}:${listener.port}`; },
    onPublish(fn) {
      listeners.add(fn);
      return () => { listeners.delete(fn); };
    },
    publish(topic, payload, retain = false) {
      if (retain) retained.set(topic, payload);
      listener.broker?.publish({ cmd: "publish", topic, payload: Buffer.from(payload), qos: 1, retain, dup: false }, () => {});
    },
    async restart({ downMs = 0 } = {}) {
      if (closed) throw new Error("the broker is closed");
      await listener.stop();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      if (!closed) await listener.start();
    },
    async close() {
      closed = true;
      await listener.stop();
    },
  };
}
