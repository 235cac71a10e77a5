// Moddable's legacy `wifi` module INSIDE XS, over the simulated radio in Node (hosts/node/modules/wifi.ts,
// which follows the ESP8266 port: events call the instance's `callback` property as a method, "disconnect"
// with -1 for a rejected password, scan items then null, same errors). With platform "lin" it also keeps what
// Moddable's lin simulator (modules/network/wifi/sim) does differently: one instance at a time, the handler
// called as a plain function with the message alone, no `callback` property, scanning refused until a mode is set.
import hostConfig from "./host-config.ts";
import { nextId } from "./bridge.ts";
import { forget, listen, remote } from "./remote.ts";

type Callback = (message: string, value?: number) => void;
interface Dictionary { ssid?: string; password?: string; bssid?: ArrayBuffer; channel?: number }

const lin = hostConfig.platform === "lin";
/** lin's simulator: the mode starts at 0 (none), and only one instance may exist. */
let linMode = 0;
let linInstance = false;

export default class WiFi {
  static readonly Mode = Object.freeze({ none: 0, station: 1, accessPoint: 2 });
  static readonly gotIP = "gotIP";
  static readonly lostIP = "lostIP";
  static readonly connected = "connect";
  static readonly disconnected = "disconnect";

  callback?: Callback;
  private readonly instance = nextId();
  private token: { $fn: number } | undefined = undefined;
  private linHandler: Callback | undefined = undefined;
  private open = true;

  constructor(dictionary?: Dictionary, onNotify?: Callback) {
    if (lin) {
      if (linInstance) throw new Error("only one instance in simulator");
      linInstance = true;
    }
    remote({ module: "wifi", op: "new", instance: this.instance, args: [] });
    // wifi.js build(): connect first, then the handler
    if (dictionary) WiFi.connect(dictionary);
    if (onNotify) this.onNotify = onNotify;
  }

  set onNotify(callback: Callback | undefined) {
    if (this.token) {
      forget(this.token);
      this.token = undefined;
      remote({ module: "wifi", op: "set", instance: this.instance, name: "onNotify", args: [undefined] });
      if (!lin) delete this.callback;
    }
    if (!callback) return;
    if (lin) this.linHandler = callback;
    else this.callback = callback;
    this.token = listen((args) => this.notify(args), "wifi");
    remote({ module: "wifi", op: "set", instance: this.instance, name: "onNotify", args: [this.token] });
  }

  /** Stops callbacks; does not disconnect. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    if (lin) linInstance = false;
    forget(this.token);
    this.token = undefined;
    remote({ module: "wifi", op: "call", instance: this.instance, name: "close", args: [] });
    remote({ module: "wifi", op: "free", instance: this.instance });
  }

  private notify(args: unknown[]): void {
    const message = args[0] as string;
    if (lin) {
      const handler = this.linHandler;
      if (handler) handler.call(undefined, message);
      return;
    }
    const callback = this.callback;
    if (typeof callback !== "function") throw new TypeError("wifi: callback is not a function");
    if (args.length > 1) callback.call(this, message, args[1] as number);
    else callback.call(this, message);
  }

  static get mode(): number {
    return lin ? linMode : remote({ module: "wifi", op: "get", name: "mode" });
  }

  static set mode(value: number) {
    if (lin && value !== 0 && value !== 1 && value !== 2 && value !== 3) throw new Error("invalid wi-fi mode");
    remote({ module: "wifi", op: "set", name: "mode", args: [value] });
    if (lin) linMode = value;
  }

  /** One item per access point, then null; an exception in an item's callback ends the items (ESP8266). */
  static scan(dictionary: { hidden?: boolean; channel?: number } | undefined, callback: (item: unknown) => void): void {
    if (lin && !linMode) throw new Error("Wi-Fi is disabled");
    let skipping = false;
    const token = listen((args) => {
      const item = args[0];
      if (item === null || item === undefined) {
        forget(token);
        callback.call(globalThis, null);
      } else if (!skipping) {
        try {
          callback.call(globalThis, item);
        } catch {
          skipping = true;
        }
      }
    }, "wifi");
    try {
      remote({ module: "wifi", op: "static", name: "scan", args: [dictionary, token] });
    } catch (e) {
      forget(token);
      throw e;
    }
  }

  static connect(dictionary?: Dictionary): void {
    if (lin) {
      if (linMode === 0) linMode = 1;
      else if (linMode !== 1 && linMode !== 3) throw new Error("Wi-Fi station disabled");
    }
    remote({ module: "wifi", op: "static", name: "connect", args: dictionary === undefined ? [] : [dictionary] });
  }

  static disconnect(): void {
    WiFi.connect();
  }

  static close(): void {
    if (!lin) throw new Error("use WiFi.disconnect()");
    WiFi.connect();
  }

  static accessPoint(dictionary: { ssid: string; password?: string; channel?: number; hidden?: boolean; interval?: number; max?: number; station?: boolean }): void {
    if (lin) {
      if (linMode === 0) linMode = 2;
      else if (linMode !== 2 && linMode !== 3) throw new Error("Wi-Fi access point disabled");
    }
    remote({ module: "wifi", op: "static", name: "accessPoint", args: [dictionary] });
  }
}
