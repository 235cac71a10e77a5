// A loopback TCP proxy in front of a broker that can stop forwarding (a dead link the client cannot see)
// or cut every connection.
import { createServer, connect, type Server, type Socket } from "node:net";

export class Proxy {
  private server: Server;
  private pairs = new Set<[Socket, Socket]>();
  /** While true, bytes are swallowed in both directions and connections stay open. */
  stalled = false;
  port = 0;

  private constructor(private readonly target: number) {
    this.server = createServer((client) => {
      const upstream = connect(target, "127.0.0.1");
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      client.on("data", (d) => { if (!this.stalled) upstream.write(d); });
      upstream.on("data", (d) => { if (!this.stalled) client.write(d); });
      const end = () => { client.destroy(); upstream.destroy(); this.pairs.delete(pair); };
      client.on("close", end); upstream.on("close", end);
      client.on("error", end); upstream.on("error", end);
    });
  }

  static async start(target: number): Promise<Proxy> {
    const p = new Proxy(target);
    await new Promise<void>((r) => p.server.listen(0, "127.0.0.1", () => r()));
    p.port = (p.server.address() as { port: number }).port;
    return p;
  }

  get connections(): number { return this.pairs.size; }

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
