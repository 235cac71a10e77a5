// INSIDE XS: Moddable's `securesocket` in memory, for src/net/tls-transport.ts without TLS: the fake `socket`'s
// calls with SecureSocket's rules (modules/crypt/securesocket): read forms only inside the readable callback (its
// data exists only then), at most 1 KB per callback, write() reporting the room less 128 bytes of record overhead.
// What Moddable's TLS itself allocates per record is not here (measured on the lin runtime: README "MQTT over TLS").
import type { Feed } from "../memory-transport.ts";
import { Socket } from "./socket.ts";

export default class SecureSocket extends Socket {
  private delivering = false;

  override deliver(feed: Feed): void {
    if (feed.bytes.length > 1024) throw new Error("fake securesocket: Moddable delivers at most 1 KB per callback");
    this.delivering = true;
    try {
      super.deliver(feed);
    } finally {
      this.delivering = false;
    }
  }

  override read(type?: unknown, count?: number): number {
    if (!this.delivering) throw new TypeError("SecureSocket read outside a readable callback");
    return super.read(type, count);
  }

  override write(data?: ArrayBufferView | ArrayBuffer): number | undefined {
    if (data === undefined) {
      const room = super.write() as number;
      return room < 128 ? 0 : room - 128;
    }
    return super.write(data);
  }
}
