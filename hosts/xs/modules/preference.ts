// Moddable's `preference` module INSIDE XS: stored by the simulated board in Node (hosts/node/modules/
// preference.ts: one store per device, the ESP8266's name and value limits, same errors).
import { remote } from "./remote.ts";

type Value = boolean | number | string | ArrayBuffer;

export default class Preference {
  static set(domain: string, key: string, value: Value): void {
    remote({ module: "preference", op: "static", name: "set", args: [domain, key, value] });
  }

  static get(domain: string, key: string): Value | undefined {
    return remote({ module: "preference", op: "static", name: "get", args: [domain, key] });
  }

  static delete(domain: string, key: string): void {
    remote({ module: "preference", op: "static", name: "delete", args: [domain, key] });
  }

  static keys(domain: string): string[] {
    return remote({ module: "preference", op: "static", name: "keys", args: [domain] });
  }
}
