// Moddable SDK `socket` module (modules/network/socket, documentation/network/network.md), declared no wider
// than the SDK's own typings (mcconfig checks src/ against those): the read forms the runtime also has
// (read(), read(Number), read(null, n)) are declared locally where they are used (src/net/socket-transport.ts).
declare module "socket" {
  export interface TCPSocketOptions {
    kind?: "TCP";
    /** lin accepts only `host` (a name or a dotted address); ESP accepts it too. */
    host?: string;
    port?: number;
    noDelay?: boolean;
    keepalive?: { idle: number; interval: number; count: number };
  }
  /** -2 error, -1 disconnected, 1 connected, 2 readable (value = bytes available), 3 writable (value = bytes free). */
  export type SocketMessage = -2 | -1 | 1 | 2 | 3;
  export class Socket {
    constructor(options: TCPSocketOptions);
    callback: (message: SocketMessage, value?: number) => void;
    read<T extends typeof String | typeof ArrayBuffer>(type: T, until?: number): T extends typeof String ? string : ArrayBuffer;
    /** Writes all of the data or throws "can't write all data". */
    write(data: number | string | ArrayBufferLike | ArrayBufferView, ...more: (number | string | ArrayBufferLike | ArrayBufferView)[]): void;
    /** Bytes that can be written now. */
    write(): number;
    close(): void;
  }
  export class Listener {
    constructor(options: { port?: number; address?: string });
    callback: (this: Listener) => void;
  }
}
