// Moddable SDK `socket` module (modules/network/socket), as documented in documentation/network/network.md.
declare module "socket" {
  export interface SocketOptions {
    host?: string;
    address?: string;
    port?: number;
    kind?: "TCP" | "UDP" | "RAW";
    noDelay?: boolean;
    keepalive?: { idle: number; interval: number; count?: number };
    listener?: Listener;
  }
  export type SocketMessage = -2 | -1 | 1 | 2 | 3;
  export class Socket {
    constructor(options: SocketOptions);
    /** -2 error, -1 disconnected, 1 connected, 2 readable (value = bytes available), 3 writable (value = bytes free). */
    callback: ((this: Socket, message: number, value?: number) => void) | undefined;
    /** Only valid inside the callback for message 2. Number: one byte; null: skip; none: bytes available. */
    read(): number;
    read(type: NumberConstructor): number;
    read(type: null, until?: number | string): number;
    read(type: StringConstructor, until?: number | string): string;
    read(type: ArrayBufferConstructor, until?: number | string): ArrayBuffer;
    /** No arguments: bytes that can be written now. Otherwise writes all or throws "can't write all data". */
    write(): number;
    write(...data: (string | number | ArrayBufferLike | ArrayBufferView)[]): void;
    get(what: "REMOTE_IP"): string | undefined;
    close(): void;
    static readonly connected: 1;
    static readonly readable: 2;
    static readonly writable: 3;
    static readonly error: -2;
    static readonly disconnected: -1;
  }
  export class Listener {
    constructor(options: { port: number });
    callback: ((this: Listener) => void) | undefined;
    close(): void;
  }
  const _default: { Socket: typeof Socket; Listener: typeof Listener };
  export default _default;
}
