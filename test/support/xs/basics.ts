// XS entry for the Node side's own tests: globals as a board sees them, timers, and the socket bridge.
import Timer from "timer";
import Time from "time";
import { Socket } from "socket";
import config from "mc/config";

/** typeof of the globals a board has or lacks. */
export function globals(): Record<string, string> {
  const g = globalThis as Record<string, unknown>;
  const names = ["trace", "console", "setTimeout", "TextEncoder", "TextDecoder", "Buffer", "print", "issueCommand", "gc", "performance", "setImmediate", "queueMicrotask"];
  const out: Record<string, string> = {};
  for (const n of names) out[n] = typeof g[n];
  out["ArrayBuffer.fromString"] = typeof ArrayBuffer.fromString;
  out["String.fromArrayBuffer"] = typeof String.fromArrayBuffer;
  return out;
}

export function strings(text: string): { bytes: number[]; back: string } {
  const buffer = ArrayBuffer.fromString(text);
  return { bytes: Array.from(new Uint8Array(buffer)), back: String.fromArrayBuffer(buffer) };
}

export function say(...values: unknown[]): void { trace(...values); }

export function configValue(key: string): unknown { return config[key]; }

/** Runs a one-shot, a repeat cleared after 3 fires, a parked+rescheduled timer and a cleared one. */
export function timers(): Promise<string[]> {
  return new Promise((resolve) => {
    const events: string[] = [];
    const start = Time.ticks;
    const never = Timer.set(() => events.push("cleared timer fired"), 5);
    Timer.clear(never);
    let count = 0;
    Timer.repeat((id) => {
      events.push(`repeat ${++count}`);
      if (count === 3) Timer.clear(id);
    }, 5);
    const parked = Timer.set(() => events.push("parked fired"), 1000);
    Timer.schedule(parked);
    Timer.set(() => Timer.schedule(parked, 10), 20);
    Timer.set(() => {
      events.push(`elapsed ${Time.delta(start) >= 60 ? ">=60" : "<60"}`);
      resolve(events);
    }, 60);
  });
}

/** Connects, writes `text`, collects what comes back until `expected` bytes arrived, then closes. */
export function echo(port: number, text: string, expected: number): Promise<{ received: string; messages: number[]; writable: number }> {
  return new Promise((resolve, reject) => {
    const messages: number[] = [];
    let received = "";
    let writable = -1;
    const socket = new Socket({ host: "127.0.0.1", port });
    socket.callback = function (message, value) {
      messages.push(message);
      if (message === 1 /* connected */) {
        writable = this.write();
        this.write(text);
      } else if (message === 2 /* readable */) {
        received += this.read(String);
        if (received.length >= expected) {
          this.close();
          resolve({ received, messages, writable });
        }
      } else if (message < 0) {
        reject(new Error(`socket message ${message} (${value})`));
      }
    };
  });
}

/** write() refuses more than the send buffer holds, all or nothing. */
export function overfill(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket({ host: "127.0.0.1", port });
    socket.callback = function (message) {
      if (message !== 1 /* connected */) return;
      const room = this.write();
      try {
        this.write(new Uint8Array(room + 1));
        resolve("accepted");
      } catch (e) {
        resolve(`${(e as Error).message}; room ${room}`);
      }
      this.close();
    };
  });
}

/** A connection to a closed port reports an error or disconnect. */
export function refused(port: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = new Socket({ host: "127.0.0.1", port });
    socket.callback = (message) => { if (message < 0) resolve(message); };
  });
}

/** Keeps `count` objects alive (to prove the slot budget fails loudly). */
const kept: object[] = [];
export function hoard(count: number): number {
  for (let i = 0; i < count; i++) kept.push({ i });
  return kept.length;
}

export function fail(): never { throw new Error("failing on purpose"); }

export function callbackThrows(): Promise<void> {
  return new Promise((resolve) => {
    Timer.set(() => { throw new Error("thrown in a timer callback"); }, 1);
    Timer.set(() => resolve(), 20);
  });
}
