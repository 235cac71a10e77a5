// Node implementation of Moddable's `wifi` module on the current device's simulated radio.
// Follows the ESP8266 port (modules/network/wifi/esp): string messages, "disconnect" carries -1 for a rejected
// password, the callback is the instance's `callback` property, scan results then `null`, same errors.
import { currentBoard } from "../board.ts";
import type { BoardRadio, RadioListener, StationConfig } from "../board.ts";
import { WiFiMode } from "../../shared/moddable-constants.ts";

interface Dictionary { ssid?: unknown; password?: unknown; bssid?: unknown; channel?: unknown }
interface ScanItem { ssid: string; bssid: ArrayBuffer; rssi: number; channel: number; hidden: boolean; authentication: string }

const utf8 = new TextEncoder();

export default class WiFi {
  callback?: (message: string, value?: number) => void;
  #radio: BoardRadio | undefined;
  #listener: RadioListener | undefined;

  constructor(dictionary?: Dictionary, onNotify?: (message: string, value?: number) => void) {
    if (dictionary) WiFi.connect(dictionary);
    if (onNotify) this.onNotify = onNotify;
  }

  set onNotify(callback: ((message: string, value?: number) => void) | undefined) {
    this.#unregister();
    if (!callback) {
      delete this.callback;
      return;
    }
    this.callback = callback;
    this.#radio = currentBoard().radio;
    this.#listener = (message, value) => {
      const cb = this.callback;
      if (typeof cb !== "function") return;
      if (message === "disconnect") cb.call(this, message, value ?? 0);
      else cb.call(this, message);
    };
    this.#radio.addListener(this.#listener);
  }

  /** Stops callbacks; does not disconnect (per the Moddable docs). */
  close(): void {
    this.#unregister();
  }

  #unregister(): void {
    if (this.#radio && this.#listener) this.#radio.removeListener(this.#listener);
    this.#radio = this.#listener = undefined;
  }

  static get mode(): number {
    return currentBoard().radio.mode;
  }

  static set mode(value: number) {
    if (value !== 0 && value !== 1 && value !== 2 && value !== 3) throw new Error("invalid wi-fi mode");
    const radio = currentBoard().radio;
    if (!(value & WiFiMode.station)) radio.disconnect();
    if (!(value & WiFiMode.accessPoint)) radio.softAP = undefined;
    radio.mode = value;
  }

  static scan(dictionary: { hidden?: boolean; channel?: number } | undefined, callback: (item: ScanItem | null) => void): void {
    const board = currentBoard();
    const radio = board.radio;
    if (!(radio.mode & WiFiMode.station)) throw new Error("can't scan");
    if (radio.scanning) throw new Error("unfinished wifi scan pending");
    radio.scanning = true;
    const hidden = !!dictionary?.hidden;
    const channel = dictionary?.channel === undefined ? undefined : Number(dictionary.channel);
    const scanMs = radio.air?.scanMs ?? 2000;
    board.clock.schedule(() => {
      // What the scan heard at its end; the results are copied before any callback runs, as on the device.
      const items: ScanItem[] = (radio.air?.visible(hidden, channel) ?? []).map((ap) => ({
        ssid: ap.hidden ? "" : ap.ssid,
        rssi: ap.rssi,
        channel: ap.channel,
        hidden: ap.hidden,
        bssid: bssidBuffer(ap.bssid),
        authentication: ap.password ? "wpa2_psk" : "none",
      }));
      radio.scanning = false;
      board.run(() => {
        try {
          for (const item of items) callback.call(globalThis, item);
        } catch {
          // the ESP8266 port swallows exceptions from the per-item callbacks
        }
        callback.call(globalThis, null);
      });
    }, scanMs);
  }

  static connect(dictionary?: Dictionary): void {
    const radio = currentBoard().radio;
    if (!dictionary) {
      radio.disconnect();
      return;
    }
    const ssid = dictionary.ssid;
    if (!ssid) throw new Error("ssid required");
    const config: StationConfig = { ssid: String(ssid) };
    if (utf8.encode(config.ssid).length > 32) throw new Error("ssid too long - 32 bytes max");
    if (dictionary.password) {
      config.password = String(dictionary.password);
      if (utf8.encode(config.password).length > 64) throw new Error("password too long - 64 bytes max");
    }
    if (dictionary.bssid !== undefined) config.bssid = bssidString(dictionary.bssid);
    radio.connect(config);
  }

  static disconnect(): void {
    WiFi.connect();
  }

  static close(): never {
    throw new Error("use WiFi.disconnect()");
  }

  static accessPoint(dictionary: { ssid: string; password?: string; channel?: number; hidden?: boolean; interval?: number; max?: number; station?: boolean }): void {
    const radio = currentBoard().radio;
    const ssid = String(dictionary.ssid);
    if (utf8.encode(ssid).length > 32) throw new Error("ssid too long - 32 bytes max");
    if (dictionary.password !== undefined) {
      const length = utf8.encode(String(dictionary.password)).length;
      if (length > 64) throw new Error("password too long - 64 bytes max");
      if (length < 8) throw new Error("password too short - 8 bytes min");
    }
    const channel = dictionary.channel ?? 1;
    if (channel < 1 || channel > 13) throw new Error("invalid channel");
    if (!dictionary.station) radio.disconnect();
    radio.mode = dictionary.station ? WiFiMode.station | WiFiMode.accessPoint : WiFiMode.accessPoint;
    radio.softAP = { ssid, channel };
  }

  static readonly Mode = Object.freeze({ none: 0, station: 1, accessPoint: 2 });
  static readonly gotIP = "gotIP";
  static readonly lostIP = "lostIP";
  static readonly connected = "connect";
  static readonly disconnected = "disconnect";
}

function bssidBuffer(text: string): ArrayBuffer {
  return new Uint8Array(text.split(":").map((h) => parseInt(h, 16))).buffer;
}

function bssidString(value: unknown): string {
  if (!(value instanceof ArrayBuffer) || value.byteLength !== 6) throw new Error("bssid must be 6 bytes");
  return [...new Uint8Array(value)].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}
