// Moddable SDK `securesocket` (modules/crypt/securesocket, documentation/network/securesocket.md): TLS over the
// legacy `socket`, with its callback messages. Declared no wider than the SDK's typings/securesocket.d.ts
// (mcconfig checks src/ against those): the runtime's other forms (callback, read(), read(Number),
// read(null, n), write() returning the space left) are declared where they are used (src/net/tls-transport.ts).
declare module "securesocket" {
  import { Socket } from "socket";

  type WriteData = number | string | ArrayBufferLike | ArrayBufferView;

  export default class SecureSocket {
    sock: typeof Socket;

    /** The `socket` dictionary plus `secure`: {protocolVersion, certificate, verify, trace, serverName, ...}. */
    constructor(dict: { [k: string]: any });

    read<T extends typeof String | typeof ArrayBuffer>(type: T, until?: number): T extends typeof String ? string : ArrayBuffer;
    write(data: WriteData, ...moreData: WriteData[]): void;
    close(): void;
  }
}
