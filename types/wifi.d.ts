// Moddable SDK legacy `wifi` module (documentation/network/network.md#wifi, modules/network/wifi), declared
// no wider than the SDK's typings. On ESP8266/ESP32 the runtime also passes a second argument with
// "disconnect" (-1 when the password was rejected): declare it in your callback as optional.
declare module "wifi" {
  export type WiFiMessage = "connect" | "gotIP" | "lostIP" | "disconnect" | "station_connect" | "station_disconnect";
  export type WiFiCallback = (message: WiFiMessage) => void;
  export interface WiFiOptions { ssid: string; password?: string; bssid?: ArrayBuffer }
  export interface WiFiScanItem { ssid: string; authentication: string; rssi: number; bssid: ArrayBuffer }
  export type WiFiMode = -5 | 0 | 1 | 2 | 3;
  class WiFi {
    static readonly gotIP: "gotIP";
    static readonly lostIP: "lostIP";
    static readonly connected: "connect";
    static readonly disconnected: "disconnect";
    static readonly station_connected: "station_connect";
    static readonly station_disconnected: "station_disconnect";
    static readonly Mode: { off: -5; none: 0; station: 1; accessPoint: 2 };
    /** Starts connecting when `options` is given; `callback` receives the station events (asynchronously). */
    constructor(options?: WiFiOptions, callback?: WiFiCallback);
    /** Stops callbacks; does not disconnect. */
    close(): void;
    /** One item per access point, then `null`. */
    static scan(options: { hidden?: boolean; channel?: number }, callback: (item: WiFiScanItem | null) => void): void;
    static mode: WiFiMode;
    /** Without options: disconnects. */
    static connect(options?: WiFiOptions): void;
    static disconnect(): void;
    static accessPoint(options: { ssid: string; password?: string; channel?: number; hidden?: boolean; interval?: number; max?: number }): void;
  }
  export { WiFi as default };
}
