// An aedes broker on a loopback port that can stop and listen again on the same port: what the local brokers
// (the Adafruit IO emulator, the plain MQTT broker) share. A stop drops every client and loses every session.
import { createServer, type Server, type Socket } from "node:net";
import type { Aedes, Client } from "aedes";

export class AedesListener {
  /** The running broker; undefined while stopped. */
  broker: Aedes | undefined;
  private server: Server | undefined;
  private sockets = new Set<Socket>();

  /**
   * `create` makes a fresh broker for each start (sessions do not survive a stop); `accepted` sees each
   * connection's aedes client as soon as aedes takes it. Port 0 picks a free port, kept across restarts.
   */
  constructor(readonly host: string, public port: number, private readonly create: () => Promise<Aedes>,
    private readonly accepted?: (client: Client) => void) {}

  async start(): Promise<void> {
    const b = await this.create();
    const s = createServer((socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      const client = b.handle(socket);
      this.accepted?.(client);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(this.port, this.host, () => { s.off("error", reject); resolve(); });
      });
    } catch (e) {
      await new Promise<void>((r) => b.close(() => r()));
      throw e;
    }
    this.port = (s.address() as { port: number }).port;
    this.broker = b;
    this.server = s;
  }

  async stop(): Promise<void> {
    const b = this.broker, s = this.server, open = this.sockets;
    this.broker = undefined; this.server = undefined; this.sockets = new Set();
    const serverClosed = s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve();
    if (b) await new Promise<void>((r) => b.close(() => r()));
    for (const socket of open) socket.destroy();
    await serverClosed;
  }
}
