// {{name}}: joins Wi-Fi, connects to an MQTT broker, publishes the light level (photocell on A0) to
// `{topic}/photocell` every few seconds, switches the LED from `{topic}/onoff` (ON/OFF) and keeps a retained
// `{topic}/status` ("online", or "offline" from the broker when the board drops off: the will).
import Timer from "timer";
import Analog from "pins/analog";
import Digital from "pins/digital";
import config from "mc/config";
import WiFiManager from "wifi/manager";
import { MQTTClient } from "mqtt/client";
import { clientIdFromMac } from "app/settings";
import type { App, AppStatus } from "app/status";

/** A config key (manifest.json "config", xsmq.config.json, .env, --config key=value) as text; "" if unset. */
function setting(key: string, fallback = ""): string {
  const value = config[key];
  return value === undefined || value === "" ? fallback : String(value);
}

export default function main(): App {
  const broker = setting("broker", "localhost");
  const port = Number(setting("port", "1883"));
  const topic = setting("topic", "{{name}}");
  const interval = Number(setting("interval", "5000"));
  const ledActiveLow = setting("ledActiveLow", "true") !== "false";
  const protocol = setting("protocol", "4") === "5" ? 5 : 4;  // 4: MQTT 3.1.1, 5: MQTT 5.0 (the broker must speak it)
  const status: AppStatus = {
    wifi: "idle", ssid: undefined, ip: undefined, rssi: undefined, mqtt: "offline", published: 0, delivered: 0,
    received: 0, reconnects: 0, queued: 0, errors: 0, lastError: undefined, lastReading: undefined, led: 0,
    slider: undefined, time: undefined,
  };
  const led = new Digital({ pin: Number(setting("led", "2")), mode: Digital.Output });
  const setLed = (on: boolean) => {
    led.write(on === ledActiveLow ? 0 : 1);
    status.led = on ? 1 : 0;
  };
  setLed(false);

  const client = new MQTTClient({
    host: broker, port, clientId: setting("clientId") || clientIdFromMac(), connect: false, protocolVersion: protocol,
    username: setting("username") || undefined, password: setting("key") || undefined,
    will: { topic: `${topic}/status`, payload: "offline", qos: 1, retain: true },
  });
  const refresh = () => {
    status.mqtt = client.state;
    status.reconnects = client.reconnects;
  };
  client.onConnect = () => {
    refresh();
    client.publish(`${topic}/status`, "online", 1, true);
    trace(`MQTT${protocol === 5 ? " 5.0" : ""}: connected to ${broker}:${port}\n`);
  };
  client.onClose = (e) => { refresh(); trace(`MQTT: ${e ? e.message : "closed"}\n`); };
  client.onDelivered = () => { status.delivered++; };
  client.onError = (e) => {
    status.errors++;
    status.lastError = e.message;
    trace(`app: ${e.message}\n`);
    refresh();
  };
  client.subscribe(`${topic}/onoff`, 1, (message) => {
    status.received++;
    setLed(message.textIs("ON"));
    trace(`onoff: ${status.led ? "ON" : "OFF"}\n`);
  });
  const photocell = `${topic}/photocell`;

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
  wifi.addLinkListener((up) => { client.setLink(up); refresh(); });

  const read = () => {
    const reading = Analog.read(0);
    status.lastReading = reading;
    if (client.publish(photocell, reading, 1) >= 0) status.published++;
    refresh();
    trace(`photocell: ${reading}\n`);
  };
  read(); // the first reading now (sent once connected), then one every interval
  const readings = Timer.repeat(read, interval);

  return {
    status,
    stop() {
      Timer.clear(readings);
      client.close();
      wifi.close();
      refresh();
    },
  };
}
