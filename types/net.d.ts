// Moddable SDK `net` module (documentation/network/network.md#net), no wider than the SDK's typings.
// "MAC" is undefined on lin, so callers treat every string result as possibly missing.
declare module "net" {
  const Net: {
    get(what: "IP" | "MAC", mode?: "station" | "ap" | "ethernet"): string | undefined;
    get(what: "SSID" | "BSSID"): string | undefined;
    get(what: "RSSI"): number | undefined;
    get(what: "DNS"): string[] | undefined;
    /** Calls back with the address, or without one when the name does not resolve. */
    resolve(name: string, callback: (name: string, address?: string) => void): void;
  };
  export { Net as default };
}
