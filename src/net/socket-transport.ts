// Transport over Moddable's legacy `socket` module. Reads byte by byte with read(Number) (its bulk reads return
// a new ArrayBuffer each time, which would allocate per message); each packet is written whole from its packet
// buffer. The ECMA-419 TcpTransport reads in bulk into our buffers and is the default; this one is kept for
// firmware that already uses `socket`. lin accepts only `host` in the dictionary (ESP accepts it too).
import { Socket } from "socket";
import type { Transport, TransportListener } from "./transport";

/** Read forms the runtime has (modules/network/socket) that the SDK's typings do not declare. */
interface SocketReads {
  read(): number;
  read(type: NumberConstructor): number;
  read(type: null, count: number): number;
}

export class SocketTransport implements Transport {
  private socket: Socket | undefined;
  private reads: SocketReads | undefined;
  private listener: TransportListener | undefined;
  private connected = false;

  open(host: string, port: number, listener: TransportListener): void {
    this.close();
    this.listener = listener;
    const self = this;
    const socket = new Socket({ host, port });
    socket.callback = function (message: number) {
      if (self.socket !== socket) return;
      try {
        const l = self.listener!;
        if (message === 2) l.onTransportData();
        else if (message === 3) l.onTransportWritable();
        else if (message === 1) {
          self.connected = true;
          l.onTransportConnect();
        } else if (message < 0) self.fail(message === -2 || !self.connected, "");
      } catch (e) {
        self.fail(true, `exception in the socket callback: ${(e as Error).message}`);
      }
    };
    this.socket = socket;
    this.reads = socket as unknown as SocketReads;
  }

  /** Ends the connection and tells the listener once; never throws (this runs inside host callbacks). */
  private fail(error: boolean, reason: string): void {
    const l = this.listener;
    this.close();
    if (!l) return;
    try {
      l.onTransportClose(error, reason || undefined);
    } catch {
      // The listener reports its own errors; nothing may escape into the host.
    }
  }

  available(): number {
    return this.reads ? this.reads.read() : 0;
  }

  readByte(): number {
    return this.reads!.read(Number);
  }

  readInto(dst: Uint8Array, offset: number, max: number): number {
    const r = this.reads!;
    let n = r.read();
    if (n > max) n = max;
    for (let i = 0; i < n; i++) dst[offset + i] = r.read(Number);
    return n;
  }

  readAll(dst: Uint8Array): void {
    this.readInto(dst, 0, dst.length);
  }

  skip(max: number): number {
    const r = this.reads!;
    const n = r.read();
    return r.read(null, n < max ? n : max);
  }

  writable(): number {
    const s = this.socket;
    return s ? s.write() : 0;
  }

  write(packet: Uint8Array): boolean {
    const s = this.socket;
    if (!s || packet.length > s.write()) return false;
    try {
      s.write(packet);
    } catch (e) {
      // lin reports a refused connection as connected; the first write then throws "write failed".
      this.fail(true, this.connected ? `write failed (${(e as Error).message}): connection refused or reset` : (e as Error).message);
      return false;
    }
    return true;
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    this.reads = undefined;
    this.listener = undefined;
    this.connected = false;
    if (s) {
      s.callback = ignore;
      try { s.close(); } catch { /* already closed */ }
    }
  }
}

function ignore(): void { /* a closed socket's late events */ }
