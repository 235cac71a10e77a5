// ECMA-419 TCP socket as the Moddable SDK implements it (documentation/io/io.md, "TCP Socket"; modules/io/socket).
declare module "embedded:io/socket/tcp" {
  export interface TCPOptions {
    /** IPv4 address of the remote end. */
    address?: string;
    /** Host name instead of an address (the simulator resolves it; on a board resolve with `net` first). */
    host?: string;
    port: number;
    nodelay?: boolean;
    /** "buffer" (default): ArrayBuffers in and out; "number": one byte per read/write. */
    format?: "buffer" | "number";
    /** Bytes have arrived; `count` is everything available now. */
    onReadable?: (this: TCP, count: number) => void;
    /** Connected, or output space freed; `count` bytes can be written now. */
    onWritable?: (this: TCP, count: number) => void;
    /** The connection failed or ended (a clean close too), after everything received was read. */
    onError?: (this: TCP) => void;
  }
  export default class TCP {
    constructor(options: TCPOptions);
    format: "buffer" | "number";
    readonly remoteAddress: string | undefined;
    readonly remotePort: number | undefined;
    /** undefined when nothing is available; more than available throws. */
    read(): ArrayBuffer | number | undefined;
    read(count: number): ArrayBuffer | undefined;
    /** Fills the whole buffer (it must not exceed what is available) and returns its byteLength. */
    read(buffer: ArrayBuffer | ArrayBufferView): number | undefined;
    /** Throws "would block" when the data does not fit the output buffer; returns the space left. */
    write(data: ArrayBuffer | ArrayBufferView | number): number | undefined;
    close(): void;
  }
}
