// Transport over Moddable's `socket` module (lwIP on ESP8266/ESP32). Reads byte by byte with
// read(Number), which allocates nothing; writes go through one resizable ArrayBuffer, because
// socket.write() takes whole buffers and a fresh view per packet would allocate.
import { Socket } from "socket";
import type { Transport, TransportListener } from "./transport";

export class SocketTransport implements Transport {
  private socket: Socket | undefined;
  private listener: TransportListener | undefined;
  private readonly staging: ArrayBuffer;
  private readonly stagingBytes: Uint8Array;
  private readonly resizable: boolean;

  /** `maxPacket`: the largest packet ever written (the client's txBuffer). */
  constructor(maxPacket: number) {
    let staging: ArrayBuffer;
    try {
      staging = new ArrayBuffer(maxPacket, { maxByteLength: maxPacket });
    } catch {
      staging = new ArrayBuffer(maxPacket);
    }
    this.staging = staging;
    this.resizable = typeof (staging as any).resize === "function" && (staging as any).resizable === true;
    this.stagingBytes = new Uint8Array(staging); // length-tracking when resizable
  }

  open(host: string, port: number, listener: TransportListener): void {
    this.close();
    this.listener = listener;
    const self = this;
    const socket = new Socket(isAddress(host) ? { address: host, port } : { host, port });
    socket.callback = function (message: number) {
      if (self.socket !== socket) return;
      const l = self.listener!;
      if (message === 2) l.onTransportData();
      else if (message === 3) l.onTransportWritable();
      else if (message === 1) l.onTransportConnect();
      else if (message < 0) {
        self.socket = undefined;
        self.listener = undefined;
        try { socket.close(); } catch { /* already closed */ }
        l.onTransportClose(message === -2);
      }
    };
    this.socket = socket;
  }

  available(): number {
    const s = this.socket;
    return s ? s.read() : 0;
  }

  readByte(): number {
    return this.socket!.read(Number);
  }

  readInto(dst: Uint8Array, offset: number, max: number): number {
    const s = this.socket!;
    let n = s.read();
    if (n > max) n = max;
    for (let i = 0; i < n; i++) dst[offset + i] = s.read(Number);
    return n;
  }

  writable(): number {
    const s = this.socket;
    return s ? s.write() : 0;
  }

  write(src: Uint8Array, start: number, end: number): void {
    const s = this.socket;
    if (!s) return;
    const n = end - start;
    if (this.resizable) (this.staging as any).resize(n);
    const dst = this.stagingBytes;
    for (let i = 0; i < n; i++) dst[i] = src[start + i];
    if (this.resizable) s.write(this.staging);
    else s.write(new Uint8Array(this.staging, 0, n)); // engines without resizable buffers: one view per packet
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    this.listener = undefined;
    if (s) {
      s.callback = undefined;
      try { s.close(); } catch { /* already closed */ }
    }
  }
}

function isAddress(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c !== 0x2e && (c < 0x30 || c > 0x39)) return false;
  }
  return host.length > 0;
}
