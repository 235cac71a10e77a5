// XS entry for test/xs-host.test.ts: exercises the host modules inside XS the way firmware uses them and
// returns what it saw (messages, results, error messages) as JSON for the test to compare with the SDK's rules.
import { Socket } from "socket";
import TCP from "embedded:io/socket/tcp";
import Net from "net";
import WiFi from "wifi";
import Preference from "preference";
import Analog from "pins/analog";
import Digital from "pins/digital";
import Timer from "timer";

const AnySocket: any = Socket;
const AnyTCP: any = TCP;
const AnyWiFi: any = WiFi;

function message(run: () => unknown): string {
  try {
    run();
    return "ok";
  } catch (e) {
    return (e as Error).message;
  }
}

/** What `new Socket(dictionary)` says (then closes it). */
export function socketDictionary(dictionary: Record<string, unknown>): string {
  let s: any;
  const m = message(() => { s = new AnySocket(dictionary); });
  if (s) { s.callback = () => {}; s.close(); }
  return m;
}

/** Connects, then in the first readable callback tries every read form on what the server sent. */
export function socketReads(port: number, host: string): Promise<unknown[]> {
  return new Promise((resolve) => {
    const s = new AnySocket({ host, port });
    s.callback = function (this: any, msg: number, value: number) {
      if (msg !== 2) return;
      const out: unknown[] = [value, this.read()];
      out.push(this.read(Number));
      out.push(this.read(null, 2));
      out.push(this.read(String, ","));
      out.push(this.read(String, 3));
      out.push(Array.from(new Uint8Array(this.read(ArrayBuffer, 2))));
      out.push(this.read(String));
      out.push(this.read());
      out.push(message(() => out.push(this.read(Number))));
      out.push(message(() => this.read(Symbol)));
      this.close();
      resolve(out);
    };
  });
}

/** write(): space; several items at once; more than the space throws, all or nothing. */
export function socketWrites(port: number, host: string): Promise<unknown[]> {
  return new Promise((resolve) => {
    const s = new AnySocket({ host, port });
    s.callback = function (this: any, msg: number) {
      if (msg !== 1) return;
      const out: unknown[] = [this.write()];
      this.write("ab", 0x43, new Uint8Array([0x44, 0x45]), ArrayBuffer.fromString("F\n"));
      out.push(message(() => this.write(new ArrayBuffer(this.write() + 1))));
      out.push(message(() => this.write({})));
      out.push(this.get("REMOTE_IP"));
      resolve(out);
    };
  });
}

/** Messages a socket reports until it ends (or `ms` pass), and what its writes do meanwhile. */
export function socketLife(port: number, host: string, writeOnConnect: boolean, ms: number): Promise<unknown[]> {
  return new Promise((resolve) => {
    const out: unknown[] = [];
    const s = new AnySocket({ host, port });
    const done = () => { Timer.clear(timer); out.push(message(() => s.close())); resolve(out); };
    const timer = Timer.set(done, ms);
    s.callback = function (this: any, msg: number) {
      out.push(msg);
      if (msg === 1 && writeOnConnect) out.push(message(() => this.write("hello")));
      if (msg === 2) out.push(this.read(String));
      if (msg < 0) {
        out.push(message(() => this.write("more")));
        done();
      }
    };
  });
}

/** ECMA-419: connect by address, write, read into the caller's buffer and by count, number format. */
export function tcpEcho(port: number, text: string): Promise<unknown[]> {
  return new Promise((resolve) => {
    const out: unknown[] = [];
    const buffer = new Uint8Array(4);
    let sent = false;
    let received = "";
    new AnyTCP({
      address: "127.0.0.1", port, nodelay: true,
      onWritable(this: any, count: number) {
        if (sent) return;
        sent = true;
        out.push(["writable", count, this.remoteAddress, this.remotePort === port]);
        out.push(["write", this.write(ArrayBuffer.fromString(text))]);
      },
      onReadable(this: any, count: number) {
        if (received.length === 0) {
          if (count < 4) return; // lwIP reports the total again when more arrives
          out.push(["too much", message(() => this.read(new ArrayBuffer(count + 1))), message(() => this.read(0))]);
          out.push(["into", this.read(buffer), String.fromArrayBuffer(buffer.buffer)]);
          count -= 4;
          received += String.fromArrayBuffer(buffer.buffer);
        }
        if (count > 0) received += String.fromArrayBuffer(this.read(count));
        if (received.length >= text.length) {
          out.push(["received", received, this.read()]);
          this.format = "number";
          out.push(["number", this.format, message(() => { this.format = "text"; })]);
          this.close();
          resolve(out);
        }
      },
      onError() { out.push("error"); resolve(out); },
    });
  });
}

/** What `new TCP(options)` says. */
export function tcpOptions(options: Record<string, unknown>): string {
  let t: any;
  const m = message(() => { t = new AnyTCP(options); });
  t?.close();
  return m;
}

/** onError after the peer closed, only once what arrived was read. */
export function tcpPeerClose(port: number): Promise<unknown[]> {
  return new Promise((resolve) => {
    const out: unknown[] = [];
    new AnyTCP({
      address: "127.0.0.1", port,
      onReadable(this: any, count: number) { out.push(["readable", count, String.fromArrayBuffer(this.read())]); },
      onError(this: any) {
        out.push("error", message(() => this.write(new ArrayBuffer(1))));
        this.close();
        resolve(out);
      },
    });
  });
}

export function netGet(names: string[]): unknown[] {
  return names.map((n) => (Net as any).get(n) ?? null);
}

export function netResolve(name: string): Promise<unknown[]> {
  return new Promise((resolve) => Net.resolve(name, (n: string, address?: string) => resolve([n, address ?? null])));
}

/** Connects with `dictionary` and collects the Wi-Fi messages (with their values) until gotIP or disconnect. */
export function wifiConnect(dictionary: Record<string, unknown>): Promise<unknown[]> {
  return new Promise((resolve) => {
    const out: unknown[] = [];
    const wifi = new AnyWiFi(dictionary, function (this: any, msg: string, value?: number) {
      out.push(value === undefined ? msg : [msg, value], this === wifi);
      if (msg === "gotIP" || msg === "disconnect") {
        out.push((Net as any).get("IP") ?? null, (Net as any).get("SSID") ?? null);
        wifi.close();
        resolve(out);
      }
    });
  });
}

export function wifiScan(): Promise<unknown[]> {
  return new Promise((resolve) => {
    const items: unknown[] = [];
    AnyWiFi.scan({}, (item: any) => {
      if (item) items.push([item.ssid, item.rssi, item.bssid.byteLength, item.authentication]);
      else resolve(items);
    });
  });
}

export function wifiErrors(): string[] {
  return [
    message(() => AnyWiFi.connect({ ssid: "" })),
    message(() => AnyWiFi.connect({ ssid: "x".repeat(33) })),
    message(() => AnyWiFi.close()),
  ];
}

export function preferences(): unknown[] {
  Preference.set("app", "n", 42);
  Preference.set("app", "s", "text");
  Preference.set("app", "b", true);
  Preference.set("app", "buf", new Uint8Array([1, 2, 3]).buffer);
  const got = [Preference.get("app", "n"), Preference.get("app", "s"), Preference.get("app", "b"), Array.from(new Uint8Array(Preference.get("app", "buf") as ArrayBuffer))];
  const keys = Preference.keys("app");
  Preference.delete("app", "n");
  return [got, keys, Preference.get("app", "n") ?? null, message(() => Preference.set("app", "k".repeat(32), 1)), message(() => Preference.set("app", "v", "v".repeat(63)))];
}

export function pins(): unknown[] {
  // The runtime's instance API (Analog instances, close()) is wider than the SDK's typings, which types/ mirrors.
  const led = new Digital({ pin: 2, mode: Digital.Output }) as Digital & { close(): void };
  led.write(0);
  const a = new (Analog as unknown as new (d: { pin: number }) => { read(): number; resolution: number; close(): void })({ pin: 0 });
  const out = [Analog.read(0), a.read(), a.resolution];
  Digital.write(5, 1);
  led.close();
  a.close();
  return out;
}

// --- steady traffic for allocation counts: nothing here allocates per message, so what the meter sees is the host's ---

let rounds = 0;
const staging = new ArrayBuffer(1460, { maxByteLength: 1460 });
const stagingBytes = new Uint8Array(staging);

/** Echoes what arrives back to the server through the legacy socket, byte by byte, until `stop`. */
export function socketPingPong(port: number): void {
  const s = new AnySocket({ address: "127.0.0.1", port });
  s.callback = function (this: any, msg: number) {
    if (msg !== 2) return;
    const n = this.read();
    staging.resize(n);
    for (let i = 0; i < n; i++) stagingBytes[i] = this.read(Number);
    this.write(staging);
    rounds++;
  };
}

/** The same over ECMA-419 TCP, reading into the caller's buffer. */
export function tcpPingPong(port: number): void {
  new AnyTCP({
    address: "127.0.0.1", port,
    onReadable(this: any, count: number) {
      staging.resize(count);
      this.read(staging);
      this.write(staging);
      rounds++;
    },
  });
}

/** A repeat timer that only counts. */
export function ticking(ms: number): void {
  Timer.repeat(() => { rounds++; }, ms);
}

export function roundsSoFar(): number { return rounds; }
