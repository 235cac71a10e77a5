// A loopback TCP proxy in front of a broker that parses what its clients send and counts the packets by kind, so
// a bench can pace a peer by the acknowledgements the client under test has sent (PUBACK, PUBCOMP) without
// asking the client anything.
import { createServer, connect, type Server, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";

export class CountingProxy {
  /** Packets sent by clients through the proxy, by mqtt-packet `cmd`. */
  readonly sent: Record<string, number> = {};
  port = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(target: number) {
    this.server = createServer((client) => {
      const upstream = connect(target, "127.0.0.1");
      this.sockets.add(client).add(upstream);
      const parser = mqttPacket.parser();
      parser.on("packet", (p) => { this.sent[p.cmd] = (this.sent[p.cmd] ?? 0) + 1; });
      client.on("data", (d) => { parser.parse(d); upstream.write(d); });
      upstream.on("data", (d) => client.write(d));
      const end = () => { client.destroy(); upstream.destroy(); this.sockets.delete(client); this.sockets.delete(upstream); };
      client.on("close", end); upstream.on("close", end);
      client.on("error", end); upstream.on("error", end);
    });
  }

  static async start(target: number): Promise<CountingProxy> {
    const p = new CountingProxy(target);
    await new Promise<void>((r) => p.server.listen(0, "127.0.0.1", () => r()));
    p.port = (p.server.address() as { port: number }).port;
    return p;
  }

  count(cmd: string): number { return this.sent[cmd] ?? 0; }

  /** Resolves once clients have sent `total` packets of kind `cmd`. */
  async until(cmd: string, total: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.count(cmd) < total) {
      if (Date.now() > deadline) throw new Error(`counting proxy: ${this.count(cmd)} of ${total} ${cmd} packets after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
