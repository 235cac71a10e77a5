// ECMA-419 TCP socket as the Moddable SDK implements it (documentation/io/io.md, "TCP Socket"; modules/io/socket),
// declared no wider than the SDK's typings: read(buffer) and write() return numbers at run time (bytes read,
// space left) but are declared void there, so callers cast.
declare module "embedded:io/socket/tcp" {
  export interface TCPOptions {
    /** IPv4 address of the remote end: lwip reads only this (resolve names with `net` first). */
    address: string;
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
    /** Kept as the socket's `target` property: lets callbacks be shared functions instead of closures. */
    target?: any;
  }
  export default class TCP {
    constructor(options: TCPOptions);
    readonly remoteAddress: string | undefined;
    readonly remotePort: number | undefined;
    /** With a count: a new ArrayBuffer of that many bytes; more than available throws. */
    read(byteLength?: number): number | ArrayBuffer;
    /** Fills the whole buffer (it must not exceed what is available). */
    read(buffer: ArrayBufferLike | ArrayBufferView): void;
    /** Throws "would block" when the data does not fit the output buffer. */
    write(value: number | ArrayBufferLike | ArrayBufferView): void;
    close(): void;
    get format(): "number" | "buffer";
    set format(value: "number" | "buffer");
  }
}
