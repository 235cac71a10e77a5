// The Node side of the XS stand-ins for `wifi`, `net`, `preference`, `pins/analog` and `pins/digital`: requests
// from XS (hosts/xs/modules/remote.ts) run the Node stand-ins (hosts/node/modules) on one Board, so both hosts
// share one implementation of each; callbacks come back to XS as Event deliveries.
import { networkInterfaces } from "node:os";
import type { Board } from "../node/board.ts";
import WiFi from "../node/modules/wifi.ts";
import Net from "../node/modules/net.ts";
import Preference from "../node/modules/preference.ts";
import Analog from "../node/modules/analog.ts";
import Digital from "../node/modules/digital.ts";
import type { RemoteReply, RemoteRequest } from "./protocol.ts";

type Module = (new (...args: any[]) => any) & Record<string, any>;

/** lin's `net` (modules/network/net/lin/modNet.c): only "IP", the machine's first non-loopback IPv4 address. */
class LinNet {
  static get(property: string): string | undefined {
    if (property !== "IP") return undefined;
    for (const list of Object.values(networkInterfaces()))
      for (const i of list ?? []) if (i.family === "IPv4" && !i.internal) return i.address;
    return "127.0.0.1";
  }

  static resolve(host: string, callback: (name: string, address: string | undefined) => void): void {
    Net.resolve(host, callback);
  }
}

export class RemoteModules {
  private readonly modules: Record<string, Module>;
  private readonly instances = new Map<number, any>();

  constructor(
    readonly board: Board,
    platform: "esp8266" | "lin",
    /** Delivers a callback's arguments to XS listener `listener`. */
    private readonly event: (listener: number, args: unknown[]) => void,
  ) {
    this.modules = {
      wifi: WiFi as unknown as Module,
      net: (platform === "lin" ? LinNet : Net) as unknown as Module,
      preference: Preference as unknown as Module,
      "pins/analog": Analog as unknown as Module,
      "pins/digital": Digital as unknown as Module,
    };
  }

  /** Runs one request as code on the device; errors are returned, for XS to throw. */
  handle(text: string): string {
    let reply: RemoteReply;
    try {
      const request = JSON.parse(text, (_k, v) => this.revive(v)) as RemoteRequest;
      reply = { value: this.board.run(() => this.run(request)) };
    } catch (e) {
      const error = e as Error;
      reply = { error: error.message ?? String(e), name: error.name ?? "Error" };
    }
    return JSON.stringify(reply, (_k, v) => encode(v));
  }

  /** Forgets every instance (the machine is gone). */
  close(): void {
    for (const instance of this.instances.values()) {
      try { instance.close?.(); } catch { /* already closed */ }
    }
    this.instances.clear();
  }

  private run(r: RemoteRequest): unknown {
    const module = this.modules[r.module];
    if (!module) throw new Error(`hosts/xs: no remote module "${r.module}"`);
    const args = r.args ?? [];
    switch (r.op) {
      case "static": return module[r.name as string](...args);
      case "get": return module[r.name as string];
      case "set":
        if (r.instance === undefined) module[r.name as string] = args[0];
        else this.instance(r.instance)[r.name as string] = args[0] ?? undefined;
        return undefined;
      case "new":
        this.instances.set(r.instance as number, new module(...args));
        return undefined;
      case "call": return this.instance(r.instance as number)[r.name as string](...args);
      case "free":
        this.instances.delete(r.instance as number);
        return undefined;
    }
  }

  private instance(id: number): any {
    const instance = this.instances.get(id);
    if (!instance) throw new Error(`hosts/xs: no remote instance ${id}`);
    return instance;
  }

  private revive(v: unknown): unknown {
    if (v === null || typeof v !== "object") return v;
    const o = v as { $ab?: number[]; $fn?: number };
    if (Array.isArray(o.$ab)) return new Uint8Array(o.$ab).buffer;
    if (typeof o.$fn === "number") {
      const listener = o.$fn;
      return (...args: unknown[]) => this.event(listener, args);
    }
    return v;
  }
}

/** ArrayBuffers as {$ab}, undefined (in argument lists) as {$u}: XS revives both. */
export function encode(v: unknown): unknown {
  if (v instanceof ArrayBuffer) return { $ab: [...new Uint8Array(v)] };
  return v;
}

export function encodeArgs(args: unknown[]): string {
  return JSON.stringify(args.map((a) => (a === undefined ? { $u: 1 } : a)), (_k, v) => encode(v));
}
