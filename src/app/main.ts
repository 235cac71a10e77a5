// The example firmware, a port of Adafruit's two ESP8266 MQTT sketches: join Wi-Fi, keep an Adafruit IO
// connection, publish the photocell (A0) every few seconds, drive the LED from `onoff`, follow `slider` and time.
import Timer from "timer";
import Analog from "pins/analog";
import Digital from "pins/digital";
import WiFiManager from "../wifi/manager";
import { AdafruitIO } from "../feeds/adafruit-io";
import { DROPPED, HELD } from "../feeds/rate-limiter";
import { loadSettings } from "./settings";
import type { App, AppStatus } from "./status";

export type { App, AppStatus };

/** h:mm:ss UTC from Unix seconds, like the sketch's time callback prints it. */
function clockText(seconds: number): string {
  const s = seconds % 60, m = Math.floor(seconds / 60) % 60, h = Math.floor(seconds / 3600) % 24;
  return `${h}:${m < 10 ? "0" : ""}${m}:${s < 10 ? "0" : ""}${s} UTC`;
}

export default function main(): App {
  const settings = loadSettings();
  const status: AppStatus = {
    wifi: "idle", ssid: undefined, ip: undefined, rssi: undefined, mqtt: "offline",
    published: 0, delivered: 0, received: 0, reconnects: 0, queued: 0, errors: 0, lastError: undefined,
    lastReading: undefined, led: 0, slider: undefined, time: undefined,
  };
  trace(`app: Adafruit IO user ${settings.username} at ${settings.broker}:${settings.port}${settings.secure ? " (TLS)" : ""}, photocell every ${settings.interval} ms\n`);
  const loopback = settings.broker === "127.0.0.1" || settings.broker === "localhost";
  if (settings.key && !settings.secure && !loopback) trace("app: no TLS (secure=false): the Adafruit IO key crosses the network in clear text\n");

  const led = new Digital({ pin: settings.led, mode: Digital.Output });
  const setLed = (on: boolean) => {
    led.write(on === settings.ledActiveLow ? 0 : 1);
    status.led = on ? 1 : 0;
  };
  setLed(false);

  const io = new AdafruitIO({
    user: settings.username, key: settings.key, host: settings.broker, port: settings.port, clientId: settings.clientId,
    secure: settings.secure && settings.ca ? { ca: settings.ca } : settings.secure,
    keepalive: settings.keepalive, qos: settings.qos, connect: false, queue: 1024, inflight: 4,
    rate: { limit: settings.rateLimit },
  });
  const client = io.client;
  const refresh = () => {
    status.mqtt = client.state;
    status.reconnects = client.reconnects;
    status.queued = io.queued;
  };
  io.onError = (e) => {
    status.errors++;
    status.lastError = e.message;
    trace(`app: ${e.message}\n`);
    refresh();
  };
  io.onConnect = () => {
    refresh();
    trace(`MQTT: connected to ${settings.broker}:${settings.port} as ${settings.clientId}\n`);
  };
  io.onClose = (e) => {
    refresh();
    trace(`MQTT: ${e ? e.message : "closed"}\n`);
  };
  io.onDelivered = () => {
    status.delivered++;
    status.queued = io.queued;
  };

  const photocell = io.feed("photocell");
  io.feed("onoff", { qos: 1 }).onBoolean((on) => {
    status.received++;
    setLed(on);
    trace(`onoff: ${on ? "ON" : "OFF"}\n`);
  });
  io.feed("slider", { qos: 1 }).onNumber((value) => {
    status.received++;
    status.slider = value;
    trace(`slider: ${value}\n`);
  });
  io.time("seconds", (seconds) => {
    status.received++;
    status.time = seconds;
    if (seconds % 60 === 0) trace(`time: ${clockText(seconds)}\n`);
  });

  const wifi = new WiFiManager({}, (e) => {
    if (e.type === WiFiManager.connecting) {
      status.wifi = "connecting";
      status.ssid = e.ssid;
    } else if (e.type === WiFiManager.connected) {
      status.wifi = "connected";
      status.ip = e.ip;
      status.ssid = e.ssid;
      status.rssi = e.rssi;
      trace(`Wi-Fi: connected to "${e.ssid}", IP ${e.ip}\n`);
    } else if (e.type === WiFiManager.failed) {
      trace(`Wi-Fi: "${e.ssid}" failed (${e.reason})\n`);
    } else if (e.type === WiFiManager.lost) {
      status.wifi = "lost";
      status.ip = undefined;
      status.rssi = undefined;
      trace(`Wi-Fi: lost "${e.ssid}"\n`);
    } else if (e.type === WiFiManager.gaveUp) {
      status.wifi = "gave-up";
      trace(`Wi-Fi: no access point after ${e.rounds} rounds; still trying\n`);
    }
  });
  wifi.addLinkListener((up) => {
    io.setLink(up);
    refresh();
  });

  const readings = Timer.repeat(() => {
    const reading = Analog.read(0);
    status.lastReading = reading;
    const result = photocell.publish(reading);
    if (result !== DROPPED) status.published++;
    if (wifi.linkUp) status.rssi = wifi.rssi;
    refresh();
    trace(`photocell: ${reading}${result === HELD ? " (held by the rate limit)" : result === DROPPED ? " (dropped)" : ""}\n`);
  }, settings.interval);

  return {
    status,
    stop() {
      Timer.clear(readings);
      io.close();
      wifi.close();
      // The runtime's Digital has close(); the SDK's typings do not declare it.
      (led as Digital & { close?(): void }).close?.();
      refresh();
    },
  };
}
