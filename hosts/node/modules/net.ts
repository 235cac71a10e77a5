// Node implementation of Moddable's `net` module: the current device's link state, and DNS via Node.
// As on ESP8266/ESP32: IP is undefined without a lease, MAC/BSSID are upper-case "AA:BB:..", RSSI is a number.
import { lookup } from "node:dns";
import { isIPv4 } from "node:net";
import { currentBoard } from "../board.ts";
import { WiFiMode } from "../../shared/moddable-constants.ts";

/** The soft-AP's address (the ESP default). */
const softAPAddress = "192.168.4.1";

type Iface = "station" | "ap" | "ethernet" | undefined;

export default class Net {
  static get(property: string, iface?: Iface): string | number | string[] | undefined {
    const board = currentBoard();
    const radio = board.radio;
    const station = which(radio.mode, iface);
    switch (property) {
      case "IP":
        if (station === undefined) return undefined;
        return station ? radio.ip : radio.softAP ? softAPAddress : undefined;
      case "MAC":
        if (station === undefined) return undefined;
        return station ? board.mac : softAPMac(board.mac);
      case "SSID":
        return radio.ap?.ssid;
      case "BSSID":
        return radio.ap?.bssid;
      case "RSSI":
        return radio.rssi;
      case "CHANNEL":
        return radio.ap?.channel ?? radio.softAP?.channel;
      case "DNS":
        return radio.ip && radio.ap ? [radio.ap.gateway] : [];
      default:
        return undefined;
    }
  }

  /** Resolves with Node's resolver (tests stay on 127.0.0.1/localhost); `address` is undefined on failure. */
  static resolve(host: string, callback: (name: string, address: string | undefined) => void): void {
    const board = currentBoard();
    if (isIPv4(host)) {
      board.clock.schedule(() => board.run(() => callback(host, host)), 0);
      return;
    }
    lookup(host, { family: 4 }, (error, address) => board.run(() => callback(host, error ? undefined : address)));
  }
}

/** true: station interface, false: soft-AP, undefined: none or ambiguous (station+AP without a named interface). */
function which(mode: number, iface: Iface): boolean | undefined {
  const hasStation = (mode & WiFiMode.station) !== 0;
  const hasAP = (mode & WiFiMode.accessPoint) !== 0;
  if (iface === "station") return hasStation ? true : undefined;
  if (iface === "ap") return hasAP ? false : undefined;
  if (iface === "ethernet") return undefined;
  if (hasStation && hasAP) return undefined;
  if (hasStation) return true;
  if (hasAP) return false;
  return undefined;
}

/** ESP chips give the soft-AP its own, locally administered MAC. */
function softAPMac(mac: string): string {
  const first = (parseInt(mac.slice(0, 2), 16) | 0x02).toString(16).padStart(2, "0").toUpperCase();
  return first + mac.slice(2);
}
