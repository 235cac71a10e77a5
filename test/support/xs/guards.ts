// XS entry for test/xs-guards.test.ts: code that breaks on a Moddable device — writes to frozen built-ins,
// exceptions escaping host callbacks — so the test can show the XS host stops it the same way.
import Timer from "timer";
import { Socket } from "socket";
import TCP from "embedded:io/socket/tcp";
import Net from "net";
import WiFi from "wifi";
import { MQTTError, ErrorCode } from "../../../src/mqtt/errors";
import { MQTTClient } from "../../../src/mqtt/client";
import { SocketTransport } from "../../../src/net/socket-transport";
import { FeedError, FeedErrorCode } from "../../../src/feeds/errors";

function message(run: () => unknown): string {
  try {
    run();
    return "ok";
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** Writes that a frozen realm refuses, each with what it threw (or "ok"). */
export function writes(): Record<string, string> {
  class NamedInConstructor extends Error {
    constructor(m: string) {
      super(m);
      this.name = "NamedInConstructor";
    }
  }
  class NamedAsField extends Error {
    override name = "NamedAsField";
  }
  return {
    "Error.prototype.name": message(() => { (Error.prototype as { name: string }).name = "x"; }),
    "this.name in an Error subclass": message(() => new NamedInConstructor("m")),
    "name as a class field": message(() => new NamedAsField("m").name),
    "Array.prototype.push": message(() => { (Array.prototype as any).push = () => 0; }),
    "Math.random": message(() => { (Math as any).random = () => 4; }),
    "a property of a built-in function": message(() => { (parseInt as any).cache = 1; }),
    "toString on a plain object": message(() => { const o: any = {}; o.toString = () => "o"; }),
    "a global": message(() => { (globalThis as any).mine = 1; }),
    "a plain object": message(() => { const o: any = { a: 1 }; o.a = 2; o.b = 3; }),
  };
}

/** src/'s own error classes, built in the frozen realm. */
export function srcErrors(): string[] {
  const e1 = new MQTTError(ErrorCode.BadTopic, "empty");
  const e2 = new FeedError(FeedErrorCode.ValueTooLarge, "too big");
  return [`${e1.name}: ${e1.message}`, e2.name];
}

/** A repeat timer that traces each tick; the third tick throws. */
export function timerThrows(): Promise<void> {
  return new Promise(() => {
    let n = 0;
    Timer.repeat(() => {
      trace(`tick ${++n}\n`);
      if (n === 3) throw new Error("thrown in a timer callback");
    }, 10);
  });
}

/** A socket callback that throws on connect. */
export function socketThrows(port: number): Promise<void> {
  return new Promise(() => {
    const s: any = new Socket({ host: "127.0.0.1", port });
    s.callback = (message: number) => { if (message === 1) throw new Error("thrown in a socket callback"); };
  });
}

/** What firmware that writes in its connected callback did on lin with the broker down (issue 11, item 7). */
export function writeOnConnect(port: number): Promise<void> {
  return new Promise(() => {
    const s: any = new Socket({ host: "127.0.0.1", port });
    s.callback = function (this: any, message: number) { if (message === 1) this.write("CONNECT"); };
  });
}

/**
 * The same situation through src/: the MQTT client on the legacy socket transport, broker down on lin. Resolves
 * with what the client reported after `ms` (the run must not abort).
 */
export function clientOnRefusedSocket(port: number, ms: number): Promise<string[]> {
  return new Promise((resolve) => {
    const seen: string[] = [];
    const client = new MQTTClient({ host: "127.0.0.1", port, clientId: "refused", reconnect: { min: 100, max: 200 }, transport: new SocketTransport() });
    client.onClose = (e) => { if (seen.length < 4) seen.push(`close: ${e ? e.message : "-"}`); };
    Timer.set(() => { client.close(); resolve(seen); }, ms);
  });
}

export function tcpThrows(port: number): Promise<void> {
  return new Promise(() => {
    new TCP({ address: "127.0.0.1", port, onWritable() { throw new Error("thrown in onWritable"); } });
  });
}

export function wifiThrows(ssid: string, password: string): Promise<void> {
  return new Promise(() => {
    new WiFi({ ssid, password }, (message: string) => { if (message === "connect") throw new Error("thrown in a wifi callback"); });
  });
}

export function resolveThrows(name: string): Promise<void> {
  return new Promise(() => {
    Net.resolve(name, () => { throw new Error("thrown in a resolve callback"); });
  });
}

/** An exception in a scan item's callback is swallowed by the ESP8266 port; the final null still comes. */
export function scanItemThrows(): Promise<string> {
  return new Promise((resolve) => {
    WiFi.scan({}, (item: unknown) => {
      if (item) throw new Error("thrown for an item");
      resolve("scan ended");
    });
  });
}

export function ping(): string { return "pong"; }
