// Moddable's `net` module INSIDE XS: answered by the simulated board in Node (hosts/xs/remote-modules.ts), which
// follows the ESP8266 (hosts/node/modules/net.ts) or lin (only "IP"; MAC is undefined there).
import { listen, remote } from "./remote.ts";

export default class Net {
  static get(property: string, iface?: string): string | number | string[] | undefined {
    return remote({ module: "net", op: "static", name: "get", args: iface === undefined ? [property] : [property, iface] });
  }

  /** Calls back (on the global object) with the name and its IPv4 address, or undefined when it does not resolve. */
  static resolve(host: string, callback: (name: string, address: string | undefined) => void): void {
    if (typeof callback !== "function") throw new TypeError("callback is not a function");
    const token = listen((args) => callback.call(globalThis, args[0] as string, args[1] as string | undefined), "net", true);
    remote({ module: "net", op: "static", name: "resolve", args: [String(host), token] });
  }
}
