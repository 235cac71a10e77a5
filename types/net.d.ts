// Moddable SDK `net` module (documentation/network/network.md#net).
declare module "net" {
  export default class Net {
    static get(property: "IP" | "MAC" | "SSID" | "BSSID", iface?: "station" | "ap" | "ethernet"): string | undefined;
    static get(property: "RSSI" | "CHANNEL"): number | undefined;
    static get(property: "DNS"): string[] | undefined;
    static resolve(host: string, callback: (name: string, address: string | undefined) => void): void;
  }
}
