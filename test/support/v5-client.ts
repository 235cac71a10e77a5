// Our client in MQTT 5.0 for the integration tests, recording what it reports; `cleanup` closes it after the test.
import { MQTTClient, type MQTTClientOptions, type MQTTError } from "../../src/mqtt/client";

export type Client = MQTTClient & { errors: MQTTError[]; closes: Array<MQTTError | undefined>; connacks: boolean[] };

/** A 5.0 client on 127.0.0.1:`port` with roomy buffers and no reconnect; errors, closes and CONNACKs recorded. */
export function v5Client(port: number, clientId: string, cleanup: Array<() => unknown>, extra: Partial<MQTTClientOptions> = {}): Client {
  const c = new MQTTClient({
    host: "127.0.0.1", port, clientId, protocolVersion: 5, keepalive: 30, rxBuffer: 2048, txBuffer: 2048, inflight: 8,
    queue: 16384, reconnect: false, ...extra,
  }) as Client;
  c.errors = []; c.closes = []; c.connacks = [];
  c.onError = (e) => c.errors.push(e);
  c.onClose = (e) => c.closes.push(e);
  c.onConnect = (present) => c.connacks.push(present);
  cleanup.push(() => c.close());
  return c;
}
