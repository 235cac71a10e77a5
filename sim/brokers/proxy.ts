// A loopback TCP proxy in front of a broker: it can stop forwarding (a dead link the client cannot see), cut
// every connection, and, when asked, count the packets its clients send by kind, so a bench can pace a peer by
// the acknowledgements the client under test has sent (PUBACK, PUBCOMP) without asking the client anything.
import { createServer, connect, type Server, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";

export interface ProxyOptions {
  /** Parse what clients send and count it in `sent` (off: bytes are only forwarded). */
  count?: boolean;
}

export class BrokerProxy {
  /** Packets sent by clients through the proxy, by mqtt-packet `cmd` (with `count`). */
  readonly sent: Record<string, number> = {};
  /** While true, bytes are swallowed in both directions and connections stay open. */
  stalled = false;
  port = 0;
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(target: number, options: ProxyOptions) {
    this.server = createServer((client) => {
      const upstream = connect(target, "127.0.0.1");
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const parser = options.count ? mqttPacket.parser() : undefined;
      parser?.on("packet", (p) => { this.sent[p.cmd] = (this.sent[p.cmd] ?? 0) + 1; });
      client.on("data", (d) => { if (!this.stalled) { parser?.parse(d); upstream.write(d); } });
      upstream.on("data", (d) => { if (!this.stalled) client.write(d); });
      const end = () => { client.destroy(); upstream.destroy(); this.pairs.delete(pair); };
      client.on("close", end); upstream.on("close", end);
      client.on("error", end); upstream.on("error", end);
    });
  }

  static async start(target: number, options: ProxyOptions = {}): Promise<BrokerProxy> {
    const p = new BrokerProxy(target, options);
    await new Promise<void>((r) => p.server.listen(0, "127.0.0.1", () => r()));
    p.port = (p.server.address() as { port: number }).port;
    return p;
  }

  get connections(): number { return this.pairs.size; }

  count(cmd: string): number { return this.sent[cmd] ?? 0; }

  /** Resolves once clients have sent `total` packets of kind `cmd` (with `count`). */
  async until(cmd: string, total: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.count(cmd) < total) {
      if (Date.now() > deadline) throw new Error(`proxy: ${this.count(cmd)} of ${total} ${cmd} packets after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Resets every proxied connection. */
  cut(): void {
    for (const [a, b] of this.pairs) { a.destroy(); b.destroy(); }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
