// The broker `xsmq sim` and `xsmq run` start when none is given: the Adafruit IO emulator, or a plain MQTT broker
// for apps on any broker (aedes in-process, MQTT 3.1.1; or a real mosquitto, which speaks 5.0 too). One face for
// all: where it listens, the readings it receives, the dashboard's writes.
import { randomBytes } from "node:crypto";
import { startAioBroker, type AioBroker } from "../aio/broker.ts";
import { startPlainBroker, type PlainBroker } from "../brokers/plain.ts";
import { Mosquitto, mosquittoPath } from "../brokers/mosquitto.ts";
import { Monitor } from "./monitor.ts";

export type LocalBrokerKind = "aio" | "mqtt" | "mosquitto";

/**
 * The local broker to start: `flag` (--local-broker) or the project's "localBroker", default aio. An app set to
 * MQTT 5.0 (its "protocol" setting) that did not name one on the command line gets mosquitto for "mqtt": aedes
 * speaks 3.1.1 only. undefined for a kind that does not exist.
 */
export function chooseLocalBroker(flag: string | undefined, projectKind: string | undefined, protocol: unknown): LocalBrokerKind | undefined {
  const kind = flag ?? projectKind ?? "aio";
  if (kind !== "aio" && kind !== "mqtt" && kind !== "mosquitto") return undefined;
  return kind === "mqtt" && flag === undefined && String(protocol) === "5" ? "mosquitto" : kind;
}

/** Why the local broker for an MQTT 5.0 app must be mosquitto, and how to get it. */
export const MOSQUITTO_FOR_V5 = "aedes, the built-in local broker, speaks MQTT 3.1.1 only: MQTT 5.0 needs mosquitto";

export interface LocalBroker {
  readonly kind: LocalBrokerKind;
  /** "local Adafruit IO emulator", "local MQTT broker" or "local mosquitto". */
  readonly label: string;
  readonly host: string;
  readonly port: number;
  readonly aio: AioBroker | undefined;
  readonly plain: PlainBroker | undefined;
  /**
   * A reading arrived: on the emulator a stored feed point (`key` the feed key), on the plain broker any client
   * PUBLISH (`key` its topic); on mosquitto any message its watching subscriber gets (`clientId` undefined: a
   * subscriber is not told who published). Returns a function that stops it.
   */
  onReading(fn: (clientId: string | undefined, key: string, value: string) => void): () => void;
  /**
   * The dashboard sets a value for `user`: the feed `key` on the emulator, as the Adafruit IO web UI writes it; on the
   * plain broker a retained `{prefix}/{key}` (prefix: the app's `topic` setting, else `{user}/feeds`).
   */
  write(user: string, key: string, value: string): void;
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface LocalBrokerOptions {
  /** User name -> key (password) the broker accepts. */
  users: Record<string, string>;
  /** The emulator's data points per user per minute. */
  rateLimitPerMinute?: number;
  /** The plain broker's topic prefix for dashboard writes (the app's `topic` config). */
  topicPrefix?: string;
}

export async function startLocalBroker(kind: LocalBrokerKind, options: LocalBrokerOptions): Promise<LocalBroker> {
  if (kind === "mosquitto") return startLocalMosquitto(options);
  if (kind === "mqtt") {
    const plain = await startPlainBroker({ users: options.users });
    return {
      kind, label: "local MQTT broker", host: plain.host, get port() { return plain.port; }, aio: undefined, plain,
      onReading: (fn) => plain.onPublish((e) => fn(e.clientId, e.topic, e.payload)),
      write: (user, key, value) => plain.publish(`${options.topicPrefix || `${user}/feeds`}/${key}`, value, true),
      restart: (downMs) => plain.restart({ downMs }),
      close: () => plain.close(),
    };
  }
  const aio = await startAioBroker({ users: options.users, rateLimitPerMinute: options.rateLimitPerMinute });
  return {
    kind, label: "local Adafruit IO emulator", host: aio.host, get port() { return aio.port; }, aio, plain: undefined,
    onReading: (fn) => aio.on("publish", (e) => fn(e.clientId, e.key, e.point.value)),
    write: (user, key, value) => { aio.write(user, key, value); },
    restart: (downMs) => aio.restart({ downMs }),
    close: () => aio.close(),
  };
}

/** The subscriber that watches the local mosquitto and plays the dashboard. */
const WATCHER = "xsmq-sim-watcher";

/** mosquitto with the users' logins (and one for the watching subscriber), its retained messages kept across
 *  restarts (persistence, saved when it stops). */
async function startLocalMosquitto(options: LocalBrokerOptions): Promise<LocalBroker> {
  try {
    mosquittoPath();
  } catch {
    throw new Error(`mosquitto is not installed: apt-get install mosquitto (${MOSQUITTO_FOR_V5}), or give --broker mqtt://HOST:1883, a broker that speaks 5.0`);
  }
  const watcherKey = randomBytes(12).toString("hex");
  const mosquitto = await Mosquitto.start({ users: { ...options.users, [WATCHER]: watcherKey }, persistence: true });
  const readers = new Set<(clientId: string | undefined, key: string, value: string) => void>();
  let monitor: Monitor;
  try {
    monitor = await Monitor.connect({
      url: mosquitto.url, username: WATCHER, key: watcherKey, filters: ["#"],
      onMessage: (topic, payload) => { for (const fn of readers) fn(undefined, topic, payload); },
    });
  } catch (e) {
    await mosquitto.close();
    throw e;
  }
  return {
    kind: "mosquitto", label: "local mosquitto", host: "127.0.0.1", port: mosquitto.port, aio: undefined, plain: undefined,
    onReading(fn) {
      readers.add(fn);
      return () => { readers.delete(fn); };
    },
    write: (user, key, value) => monitor.publish(`${options.topicPrefix || `${user}/feeds`}/${key}`, value, true),
    restart: (downMs) => mosquitto.restart("SIGTERM", downMs),
    async close() {
      await monitor.close();
      await mosquitto.close();
    },
  };
}
