// Transport over ECMA-419 `embedded:io/socket/tcp`: bulk reads into a caller-owned buffer, so a packet body is
// copied natively in one step. Two resizable ArrayBuffers (read-ahead and write staging) are the only buffers.
import TCP from "embedded:io/socket/tcp";
import type { Transport, TransportListener } from "./transport";

/** Bytes read ahead when the client asks for a single byte: small packets then come from one socket read. */
const READ_AHEAD = 64;

export class TcpTransport implements Transport {
  private socket: TCP | undefined;
  private listener: TransportListener | undefined;
  private connected = false;
  /** Bytes the socket holds that we have not read (its onReadable count, less what we took). */
  private incoming = 0;
  /** Output space the socket last reported. */
  private free = 0;

  // Read-ahead: rx[rxPos, rxEnd) was read from the socket and not yet consumed.
  private readonly rx: ArrayBuffer;
  private readonly rxBytes: Uint8Array;
  private readonly rxMax: number;
  private rxPos = 0;
  private rxEnd = 0;
  private readonly tx: ArrayBuffer;
  private readonly txBytes: Uint8Array;
  private readonly resizable: boolean;

  /** `maxPacket`: the largest packet ever written (the client's txBuffer); `readChunk`: the most read per call. */
  constructor(maxPacket: number, readChunk = maxPacket) {
    this.rxMax = readChunk;
    this.rx = growable(readChunk);
    this.tx = growable(maxPacket);
    this.resizable = (this.tx as any).resizable === true;
    this.rxBytes = new Uint8Array(this.rx); // length-tracking when resizable
    this.txBytes = new Uint8Array(this.tx);
  }

  open(host: string, port: number, listener: TransportListener): void {
    this.close();
    this.listener = listener;
    this.connected = false;
    this.incoming = 0;
    this.free = 0;
    this.rxPos = this.rxEnd = 0;
    const self = this;
    const socket: TCP = new TCP({
      ...(isAddress(host) ? { address: host } : { host }),
      port,
      nodelay: true,
      onReadable(count: number) {
        if (self.socket !== socket) return;
        self.incoming = count;
        self.listener!.onTransportData();
      },
      onWritable(count: number) {
        if (self.socket !== socket) return;
        self.free = count;
        if (self.connected) self.listener!.onTransportWritable();
        else {
          self.connected = true;
          self.listener!.onTransportConnect();
        }
      },
      onError() {
        if (self.socket !== socket) return;
        const l = self.listener!;
        const wasConnected = self.connected;
        self.close();
        l.onTransportClose(!wasConnected); // ECMA-419 gives no reason; before connecting it is a failure
      },
    });
    this.socket = socket;
  }

  available(): number {
    return this.rxEnd - this.rxPos + this.incoming;
  }

  readByte(): number {
    // A header byte: read a little ahead (the rest of a small packet), not a whole chunk a JS loop would copy.
    if (this.rxPos === this.rxEnd) this.fill(this.rxMax < READ_AHEAD ? this.rxMax : READ_AHEAD);
    return this.rxBytes[this.rxPos++];
  }

  readInto(dst: Uint8Array, offset: number, max: number): number {
    let n = 0;
    const rx = this.rxBytes;
    // What the read-ahead holds first (a packet's first bytes, usually a few)...
    for (let i = this.rxPos; i < this.rxEnd && n < max; i++) dst[offset + n++] = rx[i];
    this.rxPos += n;
    // ...then straight from the socket in chunks, each one native copy.
    while (n < max && this.incoming > 0) {
      const m = this.fill(Math.min(max - n, this.rxMax));
      if (this.resizable) dst.set(rx, offset + n); // length-tracking view: exactly the m bytes read
      else for (let i = 0; i < m; i++) dst[offset + n + i] = rx[i];
      n += m;
      this.rxPos = this.rxEnd = 0;
    }
    return n;
  }

  writable(): number {
    return this.socket && this.connected ? this.free : 0;
  }

  write(src: Uint8Array, start: number, end: number): void {
    const s = this.socket;
    if (!s) return;
    const n = end - start;
    if (this.resizable) (this.tx as any).resize(n);
    const dst = this.txBytes;
    for (let i = 0; i < n; i++) dst[i] = src[start + i];
    const left = s.write(this.resizable ? this.tx : new Uint8Array(this.tx, 0, n));
    this.free = typeof left === "number" ? left : 0;
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    this.listener = undefined;
    this.connected = false;
    this.incoming = 0;
    this.rxPos = this.rxEnd = 0;
    if (s) {
      try { s.close(); } catch { /* already closed */ }
    }
  }

  /** Reads up to `want` bytes (and what is available) into the read-ahead; returns the count. */
  private fill(want: number): number {
    const m = want < this.incoming ? want : this.incoming;
    if (this.resizable) {
      (this.rx as any).resize(m);
      this.socket!.read(this.rx);
    } else {
      this.socket!.read(new Uint8Array(this.rx, 0, m)); // engines without resizable buffers: a view per read
    }
    this.incoming -= m;
    this.rxPos = 0;
    this.rxEnd = m;
    return m;
  }
}

/** A resizable ArrayBuffer when the engine has them (XS and Node 20 do), else a fixed one. */
function growable(size: number): ArrayBuffer {
  try {
    return new ArrayBuffer(size, { maxByteLength: size });
  } catch {
    return new ArrayBuffer(size);
  }
}

function isAddress(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c !== 0x2e && (c < 0x30 || c > 0x39)) return false;
  }
  return host.length > 0;
}
