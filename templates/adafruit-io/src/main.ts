// {{name}}: joins Wi-Fi, connects to Adafruit IO, publishes the light level (photocell on A0) to the
// `photocell` feed every few seconds and switches the LED from the `onoff` feed (a dashboard toggle).
import Timer from "timer";
import Analog from "pins/analog";
import Digital from "pins/digital";
import WiFiManager from "wifi/manager";
import { AdafruitIO } from "feeds/adafruit-io";
import { DROPPED } from "feeds/rate-limiter";
import { loadSettings } from "app/settings";
import type { App, AppStatus } from "app/status";

export default function main(): App {
  // mc/config: manifest.json's "config", xsmq.config.json, .env (AIO_USERNAME, AIO_KEY, WIFI_SSID, WIFI_PASSWORD).
  const settings = loadSettings();
  const status: AppStatus = {
    wifi: "idle", ssid: undefined, ip: undefined, rssi: undefined, mqtt: "offline", published: 0, delivered: 0,
    received: 0, reconnects: 0, queued: 0, errors: 0, lastError: undefined, lastReading: undefined, led: 0,
    slider: undefined, time: undefined,
  };
  const led = new Digital({ pin: settings.led, mode: Digital.Output });
  const setLed = (on: boolean) => {
    led.write(on === settings.ledActiveLow ? 0 : 1);
    status.led = on ? 1 : 0;
  };
  setLed(false);

  const io = new AdafruitIO({
    user: settings.username, key: settings.key, host: settings.broker, port: settings.port,
    secure: settings.secure && settings.ca ? { ca: settings.ca } : settings.secure, // TLS for io.adafruit.com
    clientId: settings.clientId, qos: settings.qos, connect: false, rate: { limit: settings.rateLimit },
  });
  const refresh = () => {
    status.mqtt = io.client.state;
    status.reconnects = io.client.reconnects;
    status.queued = io.queued;
  };
  io.onConnect = () => { refresh(); trace(`MQTT: connected to ${settings.broker}:${settings.port}\n`); };
  io.onClose = (e) => { refresh(); trace(`MQTT: ${e ? e.message : "closed"}\n`); };
  io.onDelivered = () => { status.delivered++; };
  io.onError = (e) => {
    status.errors++;
    status.lastError = e.message;
    trace(`app: ${e.message}\n`);
    refresh();
  };

  const photocell = io.feed("photocell");
  io.feed("onoff", { qos: 1 }).onBoolean((on) => {
    status.received++;
    setLed(on);
    trace(`onoff: ${on ? "ON" : "OFF"}\n`);
  });

  const wifi = new WiFiManager({}, (e) => {
    if (e.type === WiFiManager.connected) {
      status.wifi = "connected";
      status.ssid = e.ssid;
      status.ip = e.ip;
      trace(`Wi-Fi: connected to "${e.ssid}", IP ${e.ip}\n`);
    } else if (e.type === WiFiManager.lost) {
      status.wifi = "lost";
      trace(`Wi-Fi: lost "${e.ssid}"\n`);
    } else if (e.type === WiFiManager.failed) trace(`Wi-Fi: "${e.ssid}" failed (${e.reason})\n`);
  });
  wifi.addLinkListener((up) => { io.setLink(up); refresh(); });

  const read = () => {
    const reading = Analog.read(0);
    status.lastReading = reading;
    if (photocell.publish(reading) !== DROPPED) status.published++;
    refresh();
    trace(`photocell: ${reading}\n`);
  };
  read(); // the first reading now (sent once connected), then one every interval
  const readings = Timer.repeat(read, settings.interval);

  return {
    status,
    stop() {
      Timer.clear(readings);
      io.close();
      wifi.close();
      refresh();
    },
  };
}
