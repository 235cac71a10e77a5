// Moddable SDK `wifi` module (documentation/network/network.md#wifi, modules/network/wifi/esp).
declare module "wifi" {
  export type WiFiMessage = "connect" | "gotIP" | "lostIP" | "disconnect";
  /** `value` is given with "disconnect" only: -1 when the password was rejected, 0 otherwise (ESP8266/ESP32). */
  export type WiFiCallback = (this: WiFi, message: WiFiMessage, value?: number) => void;
  export interface WiFiOptions { ssid: string; password?: string; bssid?: ArrayBuffer; channel?: number }
  export interface WiFiScanItem {
    ssid: string;
    bssid: ArrayBuffer;
    rssi: number;
    channel: number;
    hidden: boolean;
    authentication: "none" | "wep" | "wpa_psk" | "wpa2_psk" | "wpa_wpa2_psk" | string;
  }
  export default class WiFi {
    /** Starts connecting when `options` is given; `callback` receives the station events (asynchronously). */
    constructor(options?: WiFiOptions, callback?: WiFiCallback);
    /** The event handler, called as a method of this instance. */
    callback?: WiFiCallback;
    set onNotify(callback: WiFiCallback | undefined);
    /** Stops callbacks; does not disconnect. */
    close(): void;
    /** One item per access point, then `null`. Throws when a scan is already running or station mode is off. */
    static scan(options: { hidden?: boolean; channel?: number }, callback: (item: WiFiScanItem | null) => void): void;
    /** Without options: disconnects. */
    static connect(options?: WiFiOptions): void;
    static disconnect(): void;
    static accessPoint(options: { ssid: string; password?: string; channel?: number; hidden?: boolean; interval?: number; max?: number; station?: boolean }): void;
    static mode: number;
    static readonly Mode: { readonly none: 0; readonly station: 1; readonly accessPoint: 2; readonly off?: number };
    static readonly connected: "connect";
    static readonly gotIP: "gotIP";
    static readonly lostIP: "lostIP";
    static readonly disconnected: "disconnect";
  }
}
