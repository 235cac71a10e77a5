// Moddable SDK `wifi` module (documentation/network/network.md#wifi).
declare module "wifi" {
  export type WiFiMessage = "connect" | "gotIP" | "lostIP" | "disconnect";
  export interface WiFiOptions { ssid: string; password?: string; bssid?: ArrayBuffer | string }
  export interface WiFiScanItem {
    ssid: string;
    bssid: ArrayBuffer;
    rssi: number;
    channel: number;
    hidden: boolean;
    authentication: "none" | "wep" | "wpa_psk" | "wpa2_psk" | "wpa_wpa2_psk" | string;
  }
  export default class WiFi {
    constructor(options: WiFiOptions, callback?: (message: WiFiMessage, value?: unknown) => void);
    close(): void;
    static scan(options: { hidden?: boolean; channel?: number }, callback: (item: WiFiScanItem | null) => void): void;
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
