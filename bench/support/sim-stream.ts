// A Node Duplex over the simulator's Moddable socket on a simulated board, so MQTT.js can run on the same simulated
// TCP stack as our client (lwip's Nagle and delayed ACK, the broker's Nagle): a like-for-like peer for timing figures.
import { Duplex } from "node:stream";
import { Socket } from "../../hosts/node/modules/socket.ts";
import type { Device } from "../../sim/board/device.ts";

export class SimulatedSocketStream extends Duplex {
  private readonly sock: Socket;
  private readonly out: { data: Buffer; done: (error?: Error | null) => void }[] = [];
  private connected = false;

  /** Connects from `device` to host:port; noDelay as MQTT.js's own socket (Node) leaves Nagle on, unless asked. */
  constructor(device: Device, host: string, port: number, noDelay: boolean) {
    super();
    this.sock = device.run(() => new Socket({ host, port, noDelay }));
    const stream = this;
    this.sock.callback = function (message: number) {
      if (message === Socket.connected) {
        stream.connected = true;
        stream.emit("connect");
        stream.flush();
      } else if (message === Socket.readable) {
        stream.push(Buffer.from(this.read(ArrayBuffer) as ArrayBuffer));
      } else if (message === Socket.writable) {
        stream.flush();
      } else if (message < 0) {
        stream.destroy(new Error(message === Socket.error ? "connection failed" : "connection closed"));
      }
    };
  }

  override _read(): void { /* the socket pushes what arrives */ }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.out.push({ data: chunk, done });
    this.flush();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    try { this.sock.close(); } catch { /* closed already */ }
    done(error);
  }

  /** Writes what the send window has room for (TCP is a byte stream: a chunk may go in pieces). */
  private flush(): void {
    if (!this.connected) return;
    while (this.out.length > 0) {
      const free = this.sock.write() as number;
      if (free <= 0) return;
      const head = this.out[0];
      const n = Math.min(free, head.data.length);
      this.sock.write(head.data.subarray(0, n));
      if (n < head.data.length) {
        head.data = head.data.subarray(n);
        return;
      }
      this.out.shift();
      head.done();
    }
  }
}
