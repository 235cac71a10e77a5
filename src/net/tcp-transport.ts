// Transport over ECMA-419 `embedded:io/socket/tcp`, the default: bulk reads into a caller-owned buffer, so a
// packet body is copied natively in one step, and each packet is written whole from its packet buffer.
// lwip's TCP takes only an `address`, so a host name is resolved with `net` first.
import TCP from "embedded:io/socket/tcp";
import Net from "net";
import { type Transport, type TransportListener, isAddress } from "./transport";

/** Header bytes read at once: the type byte and a one-byte remaining length, so no body byte comes with them. */
const HEADER_AHEAD = 2;

export class TcpTransport implements Transport {
  /** The current socket (read by the shared callbacks below). */
  socket: TCP | undefined;
  private listener: TransportListener | undefined;
  private connected = false;
  /** Bumped by open/close: a name resolved for an earlier connection is ignored. */
  private attempt = 0;
  /** Bytes the socket holds that we have not read (its onReadable count, less what we took). */
  private incoming = 0;
  /** Output space the socket last reported. */
  private free = 0;
  // Read buffer: a length-tracking view resized to each read; [rxPos, rxEnd) not yet consumed.
  private readonly rx: ArrayBuffer;
  private readonly rxBytes: Uint8Array;
  private readonly rxMax: number;
  private rxPos = 0;
  private rxEnd = 0;
  /** Header reads since the last body read: the first takes two bytes, later ones one. */
  private headerRead = 0;

  /**
   * `readChunk`: the most read per socket call into this transport's own buffer, which holds packet headers and
   * the pieces of packets split across TCP segments (a body that arrived whole is read straight into the
   * client's buffer by readAll).
   */
  constructor(readChunk = 64) {
    this.rxMax = readChunk > HEADER_AHEAD ? readChunk : HEADER_AHEAD;
    this.rx = new ArrayBuffer(this.rxMax, { maxByteLength: this.rxMax });
    this.rxBytes = new Uint8Array(this.rx);
  }

  open(host: string, port: number, listener: TransportListener): void {
    this.close();
    this.listener = listener;
    if (isAddress(host)) {
      this.connect(host, port);
      return;
    }
    const attempt = this.attempt;
    Net.resolve(host, (name, address) => {
      if (attempt !== this.attempt) return;
      try {
        if (address) this.connect(address, port);
        else this.fail(`cannot resolve "${name}"`);
      } catch (e) {
        this.fail(`cannot connect to ${name}: ${(e as Error).message}`);
      }
    });
  }

  private connect(address: string, port: number): void {
    // Shared callbacks with this transport as `target` (ECMA-419): no closures per connection (11 XS slots each).
    this.socket = new TCP({ address, port, nodelay: true, target: this, onReadable, onWritable, onError });
  }

  /** onReadable of the current socket: `count` bytes are waiting. */
  readable(count: number): void {
    this.incoming = count;
    try {
      this.listener!.onTransportData();
    } catch (e) {
      this.fail(`exception while reading: ${(e as Error).message}`);
    }
  }

  /** onWritable of the current socket: the first one means connected. */
  writableNow(count: number): void {
    this.free = count;
    try {
      if (this.connected) this.listener!.onTransportWritable();
      else {
        this.connected = true;
        this.listener!.onTransportConnect();
      }
    } catch (e) {
      this.fail(`exception while writing: ${(e as Error).message}`);
    }
  }

  /** onError of the current socket. ECMA-419 gives no reason: the client words it (refused or closed). */
  failed(): void {
    this.fail("");
  }

  /** Ends the connection and tells the listener once; never throws (this runs inside host callbacks). */
  private fail(reason: string): void {
    const l = this.listener, wasConnected = this.connected;
    this.close();
    if (!l) return;
    try {
      l.onTransportClose(reason !== "" || !wasConnected, reason || undefined);
    } catch {
      // The listener reports its own errors; nothing may escape into the host.
    }
  }

  available(): number {
    return this.rxEnd - this.rxPos + this.incoming;
  }

  readByte(): number {
    // A packet's first read takes its type and first length byte; any further length byte comes alone, so no
    // body byte is ever read ahead and readAll can read the body straight into the client's buffer.
    if (this.rxPos === this.rxEnd) this.fill(this.headerRead++ === 0 ? HEADER_AHEAD : 1);
    return this.rxBytes[this.rxPos++];
  }

  readInto(dst: Uint8Array, offset: number, max: number): number {
    this.headerRead = 0;
    let n = 0;
    // A header read-ahead may hold a body byte or two...
    while (this.rxPos < this.rxEnd && n < max) dst[offset + n++] = this.rxBytes[this.rxPos++];
    // ...the rest comes from the socket in chunks, each one native read and one native copy.
    while (n < max && this.incoming > 0) {
      const m = this.fill(max - n);
      dst.set(this.rxBytes, offset + n); // length-tracking view: exactly the m bytes read
      n += m;
      this.rxPos = this.rxEnd = 0;
    }
    return n;
  }

  readAll(dst: Uint8Array): void {
    const n = dst.length;
    this.headerRead = 0;
    if (this.rxPos < this.rxEnd || n === 0) this.readInto(dst, 0, n); // read-ahead bytes first (a long header's)
    else {
      this.socket!.read(dst); // n <= what the socket holds: the reader checked available()
      this.incoming -= n;
    }
  }

  skip(max: number): number {
    this.headerRead = 0;
    let n = 0;
    while (this.rxPos < this.rxEnd && n < max) { this.rxPos++; n++; }
    while (n < max && this.incoming > 0) {
      n += this.fill(max - n);
      this.rxPos = this.rxEnd = 0;
    }
    return n;
  }

  writable(): number {
    return this.socket && this.connected ? this.free : 0;
  }

  write(packet: Uint8Array): boolean {
    const s = this.socket;
    if (!s || !this.connected || packet.length > this.free) return false;
    try {
      // Moddable returns the space left; the SDK's typings declare void, hence the cast (no typeof: see mqtt/kinds).
      const left = s.write(packet) as unknown as number;
      this.free = left >= 0 ? left : this.free - packet.length;
    } catch (e) {
      this.fail(`write failed: ${(e as Error).message}`);
      return false;
    }
    return true;
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    this.listener = undefined;
    this.connected = false;
    this.attempt++;
    this.incoming = 0;
    this.rxPos = this.rxEnd = 0;
    this.headerRead = 0;
    if (s) {
      try { s.close(); } catch { /* already closed */ }
    }
  }

  /** Reads up to `want` bytes (no more than available, no more than one chunk) into rx; returns the count. */
  private fill(want: number): number {
    let m = want < this.incoming ? want : this.incoming;
    if (m > this.rxMax) m = this.rxMax;
    this.rx.resize(m);
    this.socket!.read(this.rx);
    this.incoming -= m;
    this.rxPos = 0;
    this.rxEnd = m;
    return m;
  }
}

// The socket's callbacks, one set for every transport: `this` is the socket, its `target` our transport. Events of
// a socket we already closed are ignored.
function transportOf(socket: TCP): TcpTransport | undefined {
  const t = (socket as unknown as { target: TcpTransport }).target;
  return t.socket === socket ? t : undefined;
}
function onReadable(this: TCP, count: number): void {
  transportOf(this)?.readable(count);
}
function onWritable(this: TCP, count: number): void {
  transportOf(this)?.writableNow(count);
}
function onError(this: TCP): void {
  transportOf(this)?.failed();
}
