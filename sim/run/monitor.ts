// A monitoring MQTT.js client on an external broker: sees the devices' feed publishes arrive (for delivery
// latency and loss) and plays the dashboard, writing onoff/slider values the way the Adafruit IO web UI does.
import mqtt, { type MqttClient } from "mqtt";

export interface MonitorOptions {
  url: string;
  username?: string;
  key?: string;
  /** Filters to watch, e.g. ["+/feeds/+"]. */
  filters: string[];
  onMessage: (topic: string, payload: string, at: number) => void;
}

export class Monitor {
  private constructor(private readonly client: MqttClient) {}

  static async connect(options: MonitorOptions): Promise<Monitor> {
    const client = mqtt.connect(options.url, {
      username: options.username, password: options.key, clientId: `xsmq-sim-monitor-${process.pid}`,
      reconnectPeriod: 1000, connectTimeout: 10_000, clean: true,
    });
    client.on("message", (topic, payload) => options.onMessage(topic, payload.toString("utf8"), performance.now()));
    // Resubscribe after reconnects (the first subscription is made below, before we report ready).
    client.on("connect", () => { if (ready) client.subscribe(options.filters, { qos: 1 }); });
    let ready = false;
    await new Promise<void>((resolve, reject) => {
      // Until the first connection, an error ends the attempt; after it, errors (a broker restarting refuses
      // connections for a while) only mean MQTT.js reconnects, so this handler must not outlive the start.
      const fail = (e: Error) => { clearTimeout(timer); client.off("error", fail); client.end(true); reject(new Error(`monitor: ${e.message}`)); };
      const timer = setTimeout(() => fail(new Error(`no connection to ${options.url} within 10 s`)), 10_000);
      client.once("connect", () => {
        client.subscribe(options.filters, { qos: 1 }, (e) => {
          clearTimeout(timer);
          client.off("error", fail);
          if (e) { client.end(true); reject(new Error(`monitor: cannot subscribe: ${e.message}`)); } else resolve();
        });
      });
      client.on("error", fail);
    });
    client.on("error", () => { /* reconnecting: MQTT.js retries every reconnectPeriod */ });
    ready = true;
    return new Monitor(client);
  }

  get connected(): boolean { return this.client.connected; }

  publish(topic: string, value: string, retain = false): void {
    this.client.publish(topic, value, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
