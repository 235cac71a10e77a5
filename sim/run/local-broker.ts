// The broker `xsmq sim` and `xsmq run` start when none is given: the Adafruit IO emulator, or a plain MQTT broker
// for apps on any broker. One face for both: where it listens, the readings it receives, the dashboard's writes.
import { startAioBroker, type AioBroker } from "../aio/broker.ts";
import { startPlainBroker, type PlainBroker } from "../brokers/plain.ts";

export type LocalBrokerKind = "aio" | "mqtt";

export interface LocalBroker {
  readonly kind: LocalBrokerKind;
  /** "local Adafruit IO emulator" or "local MQTT broker". */
  readonly label: string;
  readonly host: string;
  readonly port: number;
  readonly aio: AioBroker | undefined;
  readonly plain: PlainBroker | undefined;
  /**
   * A reading arrived: on the emulator a stored feed point (`key` the feed key), on the plain broker any client
   * PUBLISH (`key` its topic). Returns a function that stops it.
   */
  onReading(fn: (clientId: string, key: string, value: string) => void): () => void;
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
