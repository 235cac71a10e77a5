// A minimal stand-in for src/app/main.ts (the Adafruit photocell/onoff/slider example), used by the simulator
// only while the real app is missing: Wi-Fi manager + MQTT client + a drifting light level, same App contract.
import Timer from "timer";
import config from "mc/config";
import WiFiManager from "../../../src/wifi/manager.ts";
import { MQTTClient, type Message } from "../../../src/mqtt/client.ts";
import type { App, AppStatus } from "../../../src/app/status.ts";

export default function main(): App {
  const user = String(config.username ?? "");
  const clientId = String(config.clientId || `xsmq-${String(config.username)}`);
  const interval = Number(config.interval ?? 3000);
  const status: AppStatus = {
    wifi: "idle", ssid: undefined, ip: undefined, rssi: undefined, mqtt: "offline",
    published: 0, delivered: 0, received: 0, reconnects: 0, queued: 0, errors: 0, lastError: undefined,
    lastReading: undefined, led: 0, slider: undefined, time: undefined,
  };
  const feed = (key: string) => `${user}/feeds/${key}`;

  const wifi = new WiFiManager({}, function (message, a, b, c) {
    if (message === WiFiManager.connected) {
      status.wifi = "connected"; status.ip = String(a); status.ssid = String(b); status.rssi = c;
      trace(`Wi-Fi: connected to ${b} as ${a}\n`);
    } else if (message === WiFiManager.lost) {
      status.wifi = "lost"; status.ip = undefined; status.rssi = undefined;
      trace(`Wi-Fi: lost ${a}\n`);
    } else if (message === WiFiManager.connecting) {
      status.wifi = "connecting"; status.ssid = String(b);
    } else if (message === WiFiManager.gaveUp) status.wifi = "gave-up";
  });

  const client = new MQTTClient({
    host: String(config.broker), port: Number(config.port ?? 1883), clientId, username: user, password: String(config.key ?? ""),
    keepalive: 30, cleanSession: true, connect: false, reconnect: { min: 1000, max: 30000 },
  });
  client.setLink(false);
  wifi.addLinkListener((up) => client.setLink(up));
  client.onConnect = () => {
    status.mqtt = "connected";
    trace(`MQTT: connected to ${client.host}:${client.port}\n`);
    if (status.published === 0) read(); // the first reading right away, like the first pass of the Arduino loop
    client.publish(`${feed("onoff")}/get`, "");
    client.publish(`${feed("slider")}/get`, "");
  };
  client.onClose = (error) => {
    status.mqtt = client.state;
    if (error) trace(`MQTT: ${error.message}\n`);
  };
  client.onError = (error) => {
    status.errors++;
    status.lastError = error.message;
    trace(`MQTT error: ${error.message}\n`);
  };
  client.onDelivered = () => { status.delivered++; };
  client.subscribe(feed("onoff"), 1, (m: Message) => {
    status.received++;
    status.led = m.textIs("ON") ? 1 : 0;
    trace(`onoff: ${m.text}\n`);
  });
  client.subscribe(feed("slider"), 1, (m: Message) => {
    status.received++;
    status.slider = m.number;
    trace(`slider: ${m.text}\n`);
  });
  client.subscribe("time/seconds", 0, (m: Message) => {
    status.received++;
    status.time = m.number;
  });

  let light = 512;
  function read(): void {
    light = Math.max(0, Math.min(1023, light + Math.round((Math.random() - 0.5) * 60)));
    if (client.connected && client.publish(feed("photocell"), light, 1) >= 0) {
      status.published++;
      status.lastReading = light;
    }
  }
  const timer = Timer.repeat(read, interval);
  const refresh = Timer.repeat(() => {
    status.mqtt = client.state;
    status.reconnects = client.reconnects;
    status.queued = client.session.outbox.count;
  }, 500);

  return {
    status,
    stop() {
      Timer.clear(timer);
      Timer.clear(refresh);
      client.close();
      wifi.close();
      status.mqtt = client.state;
    },
  };
}
