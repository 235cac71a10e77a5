// An aedes broker on a loopback port that can stop and listen again on the same port: what the local brokers
// (the Adafruit IO emulator, the plain MQTT broker) share. A stop drops every client and loses every session.
// With `tls` it also listens with TLS on a second port (MQTT over TLS, as io.adafruit.com does on 8883).
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { Aedes, Client } from "aedes";

/** A TLS listener beside the plain one: its port (0 picks one, kept across restarts) and PEM certificate and key. */
export interface TlsListenerOptions { port?: number; cert: string | Buffer; key: string | Buffer }

export class AedesListener {
  /** The running broker; undefined while stopped. */
  broker: Aedes | undefined;
  private server: Server | undefined;
  private tlsServer: Server | undefined;
  private sockets = new Set<Socket>();
  /** The TLS listener's port (0 without `tls`). */
  tlsPort = 0;

  /**
   * `create` makes a fresh broker for each start (sessions do not survive a stop); `accepted` sees each
   * connection's aedes client as soon as aedes takes it. Port 0 picks a free port, kept across restarts.
   */
  constructor(readonly host: string, public port: number, private readonly create: () => Promise<Aedes>,
    private readonly accepted?: (client: Client) => void, private readonly tls?: TlsListenerOptions) {
    this.tlsPort = tls?.port ?? 0;
  }

  async start(): Promise<void> {
    const b = await this.create();
    const take = (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      const client = b.handle(socket);
      this.accepted?.(client);
    };
    const s = createServer(take);
    const t = this.tls ? createTlsServer({ cert: this.tls.cert, key: this.tls.key }, take) : undefined;
    // A handshake that fails (a client that refused our certificate) ends that connection only.
    t?.on("tlsClientError", () => {});
    try {
      await listen(s, this.port, this.host);
      if (t) await listen(t, this.tlsPort, this.host);
    } catch (e) {
      s.close();
      await new Promise<void>((r) => b.close(() => r()));
      throw e;
    }
    this.port = (s.address() as { port: number }).port;
    if (t) this.tlsPort = (t.address() as { port: number }).port;
    this.broker = b;
    this.server = s;
    this.tlsServer = t;
  }

  async stop(): Promise<void> {
    const b = this.broker, open = this.sockets;
    const servers = [this.server, this.tlsServer].filter((x): x is Server => x !== undefined);
    this.broker = undefined; this.server = undefined; this.tlsServer = undefined; this.sockets = new Set();
    const serversClosed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (b) await new Promise<void>((r) => b.close(() => r()));
    for (const socket of open) socket.destroy();
    await serversClosed;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => { server.off("error", reject); resolve(); });
  });
}
