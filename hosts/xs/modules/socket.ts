// Moddable's `socket` module (TCP client) INSIDE XS, bridged to a real Node net.Socket by the Node side.
// Follows modules/network/socket/lwip/modSocket.c (ESP8266) or lin/modSocket.c (hostConfig.platform):
// dictionary rules, read forms, all-or-nothing writes, what is reported when, what throws after a close.
// Reading, writing and callbacks allocate nothing beyond the view of each delivered segment.
import { Request } from "../protocol.ts";
import { abort, begin, fromUtf8, nextId, outboxBytes, send, sendText, utf8 } from "./bridge.ts";
import { bytesOf, isIPv4 } from "./buffers.ts";
import { peerOf, register, unregister, type Receiver } from "./connections.ts";
import hostConfig from "./host-config.ts";
import { SocketMessages } from "../../shared/moddable-constants.ts";

const lin = hostConfig.platform === "lin";
/** lwIP's TCP_SND_BUF on the ESP8266 (2 x MSS): what write() takes before acknowledgements. */
const lwipSendBuffer = 2 * 1460;
/** lin's kTxBufferSize: write() copies into it and sends at once. */
const linWriteBuffer = 1024;

const Connecting = 0, Open = 1, Broken = 2, Ended = 3, Closed = 4;

type Data = string | number | ArrayBufferLike | ArrayBufferView;

export class Socket extends SocketMessages {
  callback: ((this: Socket, message: number, value?: number) => void) | undefined = undefined;
  private readonly id: number;
  /** Connecting, Open, Broken (writes fail: lin after a refused or reset connection), Ended (-1/-2 reported), Closed by the app. */
  private state = Connecting;
  /** lwIP: written and not yet acknowledged. lin: bytes stuck in the write buffer after a failed send. */
  private pending = 0;
  private remote: string | undefined = undefined;
  /** The segment being read (lwIP's current pbuf): its delivery view, read position and end. */
  private input: Uint8Array | undefined = undefined;
  private position = 0;
  private end = 0;

  constructor(dictionary: { host?: string; address?: string; port?: number; kind?: string; listener?: unknown; noDelay?: boolean }) {
    super();
    if (dictionary === null || typeof dictionary !== "object") throw new TypeError("invalid dictionary");
    if ("listener" in dictionary && dictionary.listener !== undefined) throw new Error("socket: Listener is not supported by the XS host");
    if ("kind" in dictionary && dictionary.kind !== "TCP") {
      if (dictionary.kind === "UDP" || dictionary.kind === "RAW") throw new Error(`socket: ${dictionary.kind} is not supported by the XS host`);
      throw new Error("invalid socket kind");
    }
    const port = "port" in dictionary ? Number(dictionary.port) | 0 : 0;
    let host: string | undefined, address: string | undefined;
    if (lin) {
      // lin/modSocket.c resolves `host` and ignores `address`.
      if (!("host" in dictionary)) throw new Error("host required in dictionary");
      host = String(dictionary.host);
    } else if ("host" in dictionary) {
      host = String(dictionary.host);
    } else if ("address" in dictionary) {
      address = String(dictionary.address);
      if (!isIPv4(address)) throw new Error("invalid IP address");
    } else throw new Error("invalid dictionary");
    this.id = nextId();
    register(this.id, this, Socket.receiver);
    sendText(Request.Connect, this.id, JSON.stringify({ kind: "socket", host, address, port, nodelay: !!dictionary.noDelay }));
  }

  /**
   * No argument: bytes available. Number: one byte. null: skip. String, ArrayBuffer: the bytes. A second
   * argument limits the count (a number) or ends at a terminator (its first character, included).
   * `read(undefined)` counts as `read()`: without `arguments` the two cannot be told apart.
   */
  read(type?: unknown, until?: number | string): any {
    const state = this.state;
    if (state === Closed || (lin && state === Ended)) throw new Error("read on closed socket");
    const input = this.input;
    const start = this.position;
    const available = input === undefined ? 0 : this.end - start;
    if (available === 0) {
      if (type === undefined) return 0;
      if (lin) return undefined;
      throw new Error("nothing to read");
    }
    if (type === Number) {  // the byte-at-a-time hot path
      this.advance(1);
      return (input as Uint8Array)[start];
    }
    if (type === undefined) return available;
    let count = available;
    if (typeof until === "number") {
      const n = until & 0xffff; // uint16 in the C code
      if (n < count) count = n;
    } else if (typeof until === "string" && until.length > 0) {
      const terminator = until.charCodeAt(0) < 0x80 ? until.charCodeAt(0) : utf8(until)[0];
      // c_strchr: the first match before a NUL byte
      for (let i = start; i < start + available && (input as Uint8Array)[i] !== 0; i++) {
        if ((input as Uint8Array)[i] === terminator) {
          if (i - start + 1 < count) count = i - start + 1;
          break;
        }
      }
    }
    let result: unknown;
    if (type === null) result = count;
    else if (type === String) result = fromUtf8((input as Uint8Array).subarray(start, start + count));
    else if (type === ArrayBuffer) result = (input as Uint8Array).slice(start, start + count).buffer;
    else if (typeof type === "object" || typeof type === "function") throw new Error("unsupported output type");
    this.advance(count);
    return result;
  }

  /** No argument: bytes write() takes now. Otherwise writes every argument (up to four), all or nothing. */
  write(a?: Data, b?: Data, c?: Data, d?: Data): any {
    const state = this.state;
    if (state === Closed || (lin && state === Ended)) throw new Error("write on closed socket");
    if (state === Ended) {
      if (a === undefined) return 0;
      trace("write on closed socket\n"); // lwIP traces and returns
      return;
    }
    const free = lin ? linWriteBuffer - this.pending : lwipSendBuffer - this.pending;
    if (a === undefined) return free;
    const needed = sizeOf(a) + (b === undefined ? 0 : sizeOf(b)) + (c === undefined ? 0 : sizeOf(c)) + (d === undefined ? 0 : sizeOf(d));
    if (needed > free) throw new Error("can't write all data");
    if (state === Broken || (lin && state === Connecting)) {
      if (lin) this.pending += needed; // lin keeps what send() refused in its write buffer
      throw new Error("write failed");
    }
    let at = begin(Request.Write, this.id, needed);
    at = put(a, at);
    if (b !== undefined) at = put(b, at);
    if (c !== undefined) at = put(c, at);
    if (d !== undefined) put(d, at);
    if (!lin) this.pending += needed;
  }

  get(what: string): string | undefined {
    return what === "REMOTE_IP" && this.state !== Closed ? this.remote : undefined;
  }

  close(): void {
    const state = this.state;
    if (state === Closed) {
      if (lin) throw new Error("close on closed socket");
      return;
    }
    if (lin && state === Ended) throw new Error("close on closed socket");
    this.state = Closed;
    this.input = undefined;
    unregister(this.id);
    send(Request.Close, this.id);
  }

  private advance(count: number): void {
    this.position += count;
    if (this.position === this.end) this.drained();
  }

  /** The segment was read to its end: the Node side may deliver the next one. */
  private drained(): void {
    this.input = undefined;
    send(Request.Consumed, this.id);
  }

  /** Calls `callback` as the native code does (xsCall on the property: a missing one throws too). */
  private notify(message: number, value: number): void {
    try {
      const callback = this.callback;
      if (typeof callback !== "function") throw new TypeError("socket: callback is not a function");
      callback.call(this, message, value);
    } catch (e) {
      abort("socket", e);
    }
  }

  /** What the Node side reports, as the native code reports it. */
  private static readonly receiver: Receiver<Socket> = {
    connected(s, bytes, length) {
      if (s.state !== Connecting) return;
      if (length === 0) s.state = Broken; // a refused connection reported as connected
      else {
        s.state = Open;
        s.remote = peerOf(fromUtf8(bytes.subarray(0, length)))[0];
      }
      s.notify(Socket.connected, 0);
    },
    // message 2 with one segment; lin drops what the callback leaves unread, lwIP keeps it
    data(s, bytes, length) {
      if (s.state === Closed) return;
      s.input = bytes;
      s.position = 0;
      s.end = length;
      s.notify(Socket.readable, length);
      if (lin && s.input === bytes) s.drained();
    },
    sent(s, count) {
      if (s.state !== Open) return;
      if (lin) return s.notify(Socket.writable, linWriteBuffer);
      s.pending -= count;
      if (s.pending <= 0) {  // lwIP reports writable once everything written was acknowledged
        s.pending = 0;
        s.notify(Socket.writable, lwipSendBuffer);
      }
    },
    ended(s, failed) {
      if (s.state === Closed || s.state === Ended) return;
      if (lin && failed) {
        // lin reports nothing for a failed recv(); the next one returns 0, and that is a disconnect.
        s.state = Broken;
        return;
      }
      s.state = Ended;
      s.input = undefined;
      if (lin) unregister(s.id);
      s.notify(failed ? Socket.error : Socket.disconnected, 0);
    },
  };

}

function sizeOf(data: Data): number {
  if (typeof data === "string") return utf8(data).length;
  if (typeof data === "number") return 1;
  const bytes = bytesOf(data);
  if (bytes === undefined) throw new Error("unsupported type for write");
  return bytes.length;
}

function put(data: Data, at: number): number {
  const o = outboxBytes;
  if (typeof data === "number") {
    o[at] = data & 0xff;
    return at + 1;
  }
  const bytes = typeof data === "string" ? utf8(data) : (bytesOf(data) as Uint8Array);
  o.set(bytes, at);
  return at + bytes.length;
}

export class Listener {
  constructor(_options: { port: number }) {
    throw new Error("socket: Listener is not supported by the XS host");
  }
}

export default { Socket, Listener };
