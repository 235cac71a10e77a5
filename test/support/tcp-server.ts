// A recording TCP server on a free loopback port for host socket tests, and the per-test cleanup list it uses.
import { afterEach } from "vitest";
import net from "node:net";

/** Registers an afterEach that runs the returned list's functions newest first, even after a failure. */
export function cleanupAfterEach(): (() => void)[] {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    while (cleanups.length) {
      try { cleanups.pop()!(); } catch { /* keep cleaning */ }
    }
  });
  return cleanups;
}

/** A TCP server on a free loopback port; `conns` are its accepted sockets, `bytes(i)` what connection i sent.
 *  Its connections and the server close with `cleanups`. */
export async function serveTcp(cleanups: (() => void)[], onConnection: (c: net.Socket) => void = () => {}) {
  const conns: net.Socket[] = [];
  const received: Buffer[][] = [];
  const server = net.createServer((c) => {
    conns.push(c);
    const chunks: Buffer[] = [];
    received.push(chunks);
    c.on("data", (d) => chunks.push(d));
    c.on("error", () => {});
    onConnection(c);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => { for (const c of conns) c.destroy(); server.close(); });
  const port = (server.address() as net.AddressInfo).port;
  const bytes = (i = 0) => Buffer.concat(received[i] ?? []);
  return { server, port, conns, bytes };
}
