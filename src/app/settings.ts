// The example app's settings from `mc/config` (manifest "config" or `mcconfig key=value`, which arrive as
// strings): broker, Adafruit IO user/key, TLS, reading interval, LED pin, QoS, client id. Checked once at start.
import config from "mc/config";
import Net from "net";

export interface AppSettings {
  broker: string;
  /** MQTT over TLS (config secure=true|false). Default: on for io.adafruit.com, whose key is real; other
   *  brokers (a LAN mosquitto, the local emulator) ask for it with secure=true. */
  secure: boolean;
  /** The CA certificate resource for TLS (config ca=broker-ca.der); default Moddable's store in the manifest. */
  ca: string | undefined;
  /** Default 8883 with TLS, else 1883. */
  port: number;
  /** Adafruit IO user name: feeds live under `{username}/feeds/`. */
  username: string;
  key: string;
  /** ms between photocell readings. */
  interval: number;
  /** GPIO of the LED the onoff feed drives. */
  led: number;
  /** The LED lights when the pin is low (NodeMCU/ESP-12 on-board LED). */
  ledActiveLow: boolean;
  /** QoS of the readings. */
  qos: 0 | 1;
  clientId: string;
  keepalive: number;
  /** Data points per minute the account allows (Adafruit IO free: 30; paid plans and other brokers: more). */
  rateLimit: number;
}

function text(key: string): string | undefined {
  const v = config[key];
  return v === undefined || v === "" ? undefined : String(v);
}

function number(key: string, fallback: number, min: number, max: number): number {
  const t = text(key);
  if (t === undefined) return fallback;
  const n = Number(t);
  if (!(n >= min && n <= max)) throw new Error(`config ${key}=${t} must be a number ${min}..${max}`);
  return n;
}

/**
 * "xsmq-" and the MAC without colons: unique per board and stable across reboots (Math.random is not, on XS).
 * Moddable's lin simulator has no MAC: there the start time tells instances apart ("xsmq-sim-" and 8 hex digits).
 */
export function clientIdFromMac(): string {
  const mac = Net.get("MAC");
  if (mac) return "xsmq-" + mac.split(":").join("").toLowerCase();
  // The low 32 bits of the ms clock (on lin Time.ticks is that same clock, so it adds nothing).
  return "xsmq-sim-" + (Date.now() % 0x100000000).toString(16).padStart(8, "0");
}

export function loadSettings(): AppSettings {
  const username = text("username");
  if (!username) throw new Error("config username is missing: set your Adafruit IO user name (mcconfig username=...)");
  const qos = number("qos", 1, 0, 1) as 0 | 1;
  const activeLow = text("ledActiveLow");
  const broker = text("broker") ?? "io.adafruit.com";
  const secureText = text("secure");
  const secure = secureText === undefined ? broker === "io.adafruit.com" : secureText !== "false" && secureText !== "0";
  return {
    broker,
    secure,
    ca: text("ca"),
    port: number("port", secure ? 8883 : 1883, 1, 65535),
    username,
    key: text("key") ?? "",
    interval: number("interval", 5000, 100, 86_400_000),
    led: number("led", 2, 0, 39),
    ledActiveLow: activeLow === undefined ? true : activeLow !== "false" && activeLow !== "0",
    qos,
    clientId: text("clientId") ?? clientIdFromMac(),
    keepalive: number("keepalive", 60, 0, 65535),
    rateLimit: number("rateLimit", 30, 1, 1_000_000),
  };
}
