// MQTT over WebSocket (RFC 6455, MQTT 3.1.1 section 6): our own small client framing over another Transport
// (TcpTransport for ws://, a TLS transport for wss://). The MQTT stream inside binary frames is what the client's
// reader reads, straight from the inner transport (server frames are unmasked); outgoing packets are masked into
// one buffer sized once. Per message nothing is allocated; the handshake allocates once per connection.
import Time from "time";
import Timer from "timer";
import { type Transport, type TransportListener } from "./transport";
import { TcpTransport } from "./tcp-transport";
import { xorshift32 } from "./backoff";
import { base64, sha1 } from "./sha1";

export interface WebSocketTransportOptions {
  /** The connection under the frames (default: a new TcpTransport, i.e. ws://; a TLS transport makes it wss://). */
  transport?: Transport;
  /** Request path (default "/mqtt": mosquitto ignores it, Adafruit IO, HiveMQ and EMQX want it). */
  path?: string;
  /** Subprotocol offered and required back (default "mqtt"; "mqttv3.1" for MQTT 3.1 brokers). */
  protocol?: string;
  /**
   * Largest payload of an outgoing frame (default 256, 125..65535); this + 8 bytes of buffer. A bigger packet goes out
   * in several frames, each copied byte by byte: set it to the client's txBuffer so every packet is one native copy.
   */
  frameSize?: number;
  /** ms for the server's answer to the upgrade request (default 10000). */
  handshakeTimeout?: number;
  /** Seed of the masking PRNG (default: from Math.random() and the tick counter; derive it from the MAC on boards). */
  seed?: number;
}

// Where the connection is.
const IDLE = 0, CONNECTING = 1, HANDSHAKE = 2, HEADER = 3, DATA = 4, CONTROL = 5;
const OP_CONTINUATION = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10;
/** RFC 6455 close codes we send or name. */
const CLOSE_NORMAL = 1000, CLOSE_PROTOCOL = 1002, CLOSE_UNSUPPORTED = 1003, CLOSE_TOO_BIG = 1009;
/** Longest upgrade response we read (headers); a longer one fails the handshake. */
const RESPONSE_MAX = 1024;
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Bytes of an outgoing frame header (FIN/opcode, length, 4-byte mask) for `n` payload bytes (n <= 65535). */
function headerSize(n: number): number {
  return n < 126 ? 6 : 8;
}

export class WebSocketTransport implements Transport {
  readonly inner: Transport;
  readonly path: string;
  readonly protocol: string;
  readonly frameSize: number;
  readonly handshakeTimeout: number;
  private listener: TransportListener | undefined;
  private state = IDLE;
  private host = "";
  private port = 0;
  private random: number;
  /** The Sec-WebSocket-Accept value the server must send (this connection's handshake only). */
  private accept = "";
  private response: Uint8Array | undefined;
  /** The upgrade request, until the inner transport took it. */
  private request: Uint8Array | undefined;
  private responseLength = 0;
  private timer: Timer | undefined;
  // Incoming frame: its header as read so far, then what is left of its payload.
  private readonly head = new Uint8Array(10);
  private headGot = 0;
  private headNeed = 2;
  private opcode = 0;
  /** A binary message came without FIN: continuation frames follow. */
  private fragmented = false;
  /** Payload bytes of the current data frame not read yet. */
  private remaining = 0;
  /** Control frame payload (at most 125 bytes): a PING's to echo, a CLOSE's code and reason. */
  private readonly control = new Uint8Array(125);
  private controlLength = 0;
  private controlGot = 0;
  /** Bytes of a PONG owed to the server (the last PING's payload), -1 for none: sent when the window allows. */
  private pongOwed = -1;
  // Outgoing frames are built here with the payload at byte 8, so the mask (bytes 4..7) and the payload are whole
  // 32-bit words: one XOR per 4 bytes. An 8-byte header starts at 0, a 6-byte one at 2. Length-tracking views.
  private readonly tx: ArrayBuffer;
  private readonly txBytes: Uint8Array;
  private readonly txFrom2: Uint8Array;
  private readonly txWords: Uint32Array;

  constructor(options: WebSocketTransportOptions = {}) {
    this.inner = options.transport ?? new TcpTransport();
    this.path = options.path ?? "/mqtt";
    this.protocol = options.protocol ?? "mqtt";
    this.frameSize = options.frameSize ?? 256;
    this.handshakeTimeout = options.handshakeTimeout ?? 10000;
    if (!(this.frameSize >= 125 && this.frameSize <= 65535)) throw new RangeError(`WebSocket frameSize ${this.frameSize} must be 125..65535 bytes`);
    if (this.path.charCodeAt(0) !== 0x2f) throw new RangeError(`WebSocket path "${this.path}" must start with "/"`);
    const max = this.frameSize + 8;
    this.tx = new ArrayBuffer(max, { maxByteLength: max });
    this.txBytes = new Uint8Array(this.tx);
    this.txFrom2 = new Uint8Array(this.tx, 2);
    this.txWords = new Uint32Array(this.tx);
    this.random = (options.seed ?? (Math.random() * 4294967296) ^ Time.ticks) | 0 || 1;
  }

  open(host: string, port: number, listener: TransportListener): void {
    this.close();
    this.listener = listener;
    this.host = host;
    this.port = port;
    this.state = CONNECTING;
    this.inner.open(host, port, this);
  }

  // -------------------------------------------------------------------------------------------
  // Events of the inner transport

  onTransportConnect(): void {
    try {
      this.sendRequest();
    } catch (e) {
      this.fail(true, this.where(`cannot send the upgrade request: ${(e as Error).message}`));
    }
  }

  onTransportData(): void {
    try {
      if (this.state === HANDSHAKE && !this.readResponse()) return;
      // The client reads packet after packet; it stops when a frame ends inside a packet, so go on while
      // frames bring more (each pass must consume something).
      const inner = this.inner;
      while (this.listener && this.available() > 0) {
        const before = inner.available();
        this.listener.onTransportData();
        if (inner.available() === before) break;
      }
    } catch (e) {
      this.fail(true, `exception while reading: ${(e as Error).message}`);
    }
  }

  onTransportWritable(): void {
    try {
      if (this.state === HANDSHAKE) this.sendPendingRequest();
      if (this.state < HEADER) return;
      if (this.pongOwed >= 0) this.sendPong();
      this.listener?.onTransportWritable();
    } catch (e) {
      this.fail(true, `exception while writing: ${(e as Error).message}`);
    }
  }

  onTransportClose(error: boolean, reason?: string): void {
    const handshaking = this.state === HANDSHAKE;
    this.fail(error || handshaking, handshaking ? this.where(reason ?? "the server closed the connection during the handshake") : reason);
  }

  // -------------------------------------------------------------------------------------------
  // The MQTT byte stream (ByteSource): the current data frame's payload, never past its end

  available(): number {
    if (this.state !== DATA || this.remaining === 0) this.advance();
    if (this.state !== DATA) return 0;
    const a = this.inner.available(), r = this.remaining;
    return a < r ? a : r;
  }

  readByte(): number {
    this.remaining--;
    return this.inner.readByte();
  }

  readInto(dst: Uint8Array, offset: number, max: number): number {
    const n = this.inner.readInto(dst, offset, max < this.remaining ? max : this.remaining);
    this.remaining -= n;
    return n;
  }

  readAll(dst: Uint8Array): void {
    this.inner.readAll(dst); // dst.length <= available(): inside this frame
    this.remaining -= dst.length;
  }

  skip(max: number): number {
    const n = this.inner.skip(max < this.remaining ? max : this.remaining);
    this.remaining -= n;
    return n;
  }

  /**
   * Reads frame headers and control frames until a data frame's payload is next (or the inner transport is
   * empty). PINGs are answered, a CLOSE ends the connection, a frame the protocol forbids fails it.
   */
  private advance(): void {
    const inner = this.inner;
    for (;;) {
      const s = this.state;
      if (s === DATA) {
        if (this.remaining > 0) return;
        this.state = HEADER;
        this.headGot = 0;
        this.headNeed = 2;
      } else if (s === HEADER) {
        if (inner.available() === 0) return;
        this.headGot += inner.readInto(this.head, this.headGot, this.headNeed - this.headGot);
        if (this.headGot === this.headNeed && !this.frameHeader()) return;
      } else if (s === CONTROL) {
        if (this.controlGot < this.controlLength) {
          if (inner.available() === 0) return;
          const want = this.controlLength - this.controlGot;
          // A PONG's payload is not needed: skipped, so an owed PONG's bytes stay intact.
          this.controlGot += this.opcode === OP_PONG ? inner.skip(want) : inner.readInto(this.control, this.controlGot, want);
        }
        if (this.controlGot === this.controlLength && !this.controlFrame()) return;
      } else return;
    }
  }

  /** The header in `head` is complete so far: asks for more of it, or moves to its payload. False: connection ended. */
  private frameHeader(): boolean {
    const h = this.head, b0 = h[0], b1 = h[1];
    if (this.headNeed === 2) {
      if (b1 & 0x80) return this.protocolError(CLOSE_PROTOCOL, "a masked frame from the server (RFC 6455 5.1)");
      const len = b1 & 0x7f;
      if (len >= 126) {
        this.headNeed = len === 126 ? 4 : 10;
        return true;
      }
    }
    if (b0 & 0x70) return this.protocolError(CLOSE_PROTOCOL, "a frame with reserved bits set (no extension was agreed)");
    const op = b0 & 15, fin = (b0 & 0x80) !== 0, len7 = b1 & 0x7f;
    let length: number;
    if (len7 < 126) length = len7;
    else if (len7 === 126) length = (h[2] << 8) | h[3];
    else {
      if (h[2] !== 0 || h[3] > 0x1f) return this.protocolError(CLOSE_TOO_BIG, "a frame longer than 2^53 bytes");
      length = (h[3] * 65536 + ((h[4] << 8) | h[5])) * 4294967296 + ((h[6] << 24) >>> 0) + ((h[7] << 16) | (h[8] << 8) | h[9]);
    }
    this.opcode = op;
    if (op >= OP_CLOSE) {
      if (op > OP_PONG) return this.protocolError(CLOSE_PROTOCOL, `a frame with the unknown opcode ${op}`);
      if (!fin || length > 125) return this.protocolError(CLOSE_PROTOCOL, "a fragmented or longer than 125 bytes control frame");
      if (op === OP_PING) this.pongOwed = -1; // its payload replaces the last one's
      this.state = CONTROL;
      this.controlLength = length;
      this.controlGot = 0;
      return true;
    }
    if (op === OP_CONTINUATION) {
      if (!this.fragmented) return this.protocolError(CLOSE_PROTOCOL, "a continuation frame with no message to continue");
    } else if (op === OP_BINARY) {
      if (this.fragmented) return this.protocolError(CLOSE_PROTOCOL, "a new message inside a fragmented one");
    } else if (op === OP_TEXT) return this.protocolError(CLOSE_UNSUPPORTED, "a text frame (MQTT travels in binary frames, MQTT-6.0.0-1)");
    else return this.protocolError(CLOSE_PROTOCOL, `a frame with the unknown opcode ${op}`);
    this.fragmented = !fin;
    this.state = DATA;
    this.remaining = length;
    return true;
  }

  /** The control frame's payload is in; acts on it. False: the connection ended. */
  private controlFrame(): boolean {
    this.state = HEADER;
    this.headGot = 0;
    this.headNeed = 2;
    const op = this.opcode;
    if (op === OP_PING) {
      this.pongOwed = this.controlLength;
      this.sendPong();
    } else if (op === OP_CLOSE) {
      const c = this.control, n = this.controlLength;
      const code = n >= 2 ? (c[0] << 8) | c[1] : 0;
      // Echo the code (RFC 6455 5.5.1), then end: the server closes TCP.
      this.sendClose(code);
      let reason = "";
      if (n > 2) {
        try { reason = String.fromArrayBuffer(c.slice(2, n).buffer); } catch { reason = "(not UTF-8)"; }
      }
      this.fail(code !== CLOSE_NORMAL, `WebSocket closed by the server (${n >= 2 ? `code ${code}` : "no code"}${reason ? `: ${reason}` : ""})`);
      return false;
    }
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Output

  writable(): number {
    if (this.state < HEADER) return 0;
    // What fits in the inner window after each frame's header.
    const free = this.inner.writable(), size = this.frameSize, full = size + headerSize(size);
    const frames = Math.floor(free / full), rest = free - frames * full;
    let last = rest - 6;
    if (last > 125) last = rest - 8 > 125 ? rest - 8 : 125;
    return frames * size + (last > 0 ? last : 0);
  }

  write(packet: Uint8Array): boolean {
    if (this.state < HEADER) return false;
    const n = packet.length, size = this.frameSize;
    if (n <= size) {
      // Most packets: one frame.
      if (this.inner.writable() < n + (n < 126 ? 6 : 8)) return false;
      if (this.sendFrame(OP_BINARY, packet, 0, n)) return true;
    } else {
      const frames = Math.floor(n / size), rest = n - frames * size;
      if (this.inner.writable() < n + frames * headerSize(size) + (rest > 0 ? headerSize(rest) : 0)) return false;
      let at = 0;
      while (at < n && this.sendFrame(OP_BINARY, packet, at, n - at < size ? n - at : size)) at += size;
      if (at >= n) return true;
    }
    // The window had room for all of it: a refusal now means the connection is going.
    this.fail(true, "the connection refused a WebSocket frame");
    return false;
  }

  /** One masked frame with FIN set; false if the inner transport refused it. */
  private sendFrame(op: number, src: Uint8Array, from: number, n: number): boolean {
    const t = this.txBytes, w = this.txWords, end = 8 + n;
    this.tx.resize(end);
    let frame = t;
    if (n < 126) {
      t[2] = 0x80 | op;
      t[3] = 0x80 | n;
      frame = this.txFrom2;
    } else {
      t[0] = 0x80 | op;
      t[1] = 0x80 | 126;
      t[2] = n >> 8;
      t[3] = n & 255;
    }
    // The mask in bytes 4..7 as one word: XORing payload words with it masks byte i with mask byte i % 4,
    // whatever the CPU's byte order.
    const mask = w[1] = this.random = xorshift32(this.random);
    // Loop variables outside the loops: XS makes a binding per iteration for `for (let ...)`.
    let i = 0;
    if (from === 0 && n === src.length) t.set(src, 8); // native copy; a chunk of a bigger packet is copied by hand
    else for (; i < n; i++) t[8 + i] = src[from + i]; // (a subarray would allocate a view)
    const words = 2 + (n >> 2);
    for (i = 2; i < words; i++) w[i] ^= mask;
    for (i = words << 2; i < end; i++) t[i] ^= t[4 + (i & 3)];
    return this.inner.write(frame);
  }

  private sendPong(): void {
    const n = this.pongOwed;
    if (this.inner.writable() < n + 6) return; // owed until the window has room
    this.pongOwed = -1;
    this.sendFrame(OP_PONG, this.control, 0, n);
  }

  /** A CLOSE frame with `code` (0: none), when the window has room: a courtesy, never required. */
  private sendClose(code: number): void {
    const c = this.control;
    c[0] = code >> 8;
    c[1] = code & 255;
    if (this.inner.writable() >= 8) this.sendFrame(OP_CLOSE, c, 0, code ? 2 : 0);
  }

  // -------------------------------------------------------------------------------------------
  // Handshake (once per connection: allocates)

  private sendRequest(): void {
    const key = new Uint8Array(16);
    for (let i = 0; i < 16; i += 4) {
      const r = this.random = xorshift32(this.random);
      key[i] = r; key[i + 1] = r >> 8; key[i + 2] = r >> 16; key[i + 3] = r >>> 24;
    }
    const keyText = base64(key);
    this.accept = base64(sha1(new Uint8Array(ArrayBuffer.fromString(keyText + GUID))));
    const request = new Uint8Array(ArrayBuffer.fromString(`GET ${this.path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${keyText}\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Protocol: ${this.protocol}\r\n\r\n`));
    this.response = new Uint8Array(RESPONSE_MAX);
    this.responseLength = 0;
    this.state = HANDSHAKE;
    const self = this;
    this.timer = Timer.set(() => {
      self.timer = undefined;
      self.fail(true, self.where(`no answer to the upgrade request within ${self.handshakeTimeout} ms`));
    }, this.handshakeTimeout);
    // A window too small for it now (a TLS socket's, just after its handshake) takes it when it opens.
    this.request = request;
    this.sendPendingRequest();
  }

  private sendPendingRequest(): void {
    if (this.request && this.inner.write(this.request)) this.request = undefined;
  }

  /** Reads the upgrade response byte by byte (never into the frames after it). True once it is complete and valid. */
  private readResponse(): boolean {
    const inner = this.inner, buf = this.response!;
    let n = this.responseLength;
    while (inner.available() > 0) {
      if (n === RESPONSE_MAX) {
        this.fail(true, this.where(`response headers longer than ${RESPONSE_MAX} bytes`));
        return false;
      }
      buf[n++] = inner.readByte();
      if (n >= 4 && buf[n - 1] === 10 && buf[n - 2] === 13 && buf[n - 3] === 10 && buf[n - 4] === 13) {
        this.responseLength = n;
        let problem: string;
        try {
          problem = this.checkResponse(String.fromArrayBuffer(buf.slice(0, n).buffer));
        } catch {
          problem = "the response headers are not text";
        }
        if (problem) {
          this.fail(true, this.where(problem));
          return false;
        }
        this.response = undefined;
        this.request = undefined;
        this.accept = "";
        Timer.clear(this.timer);
        this.timer = undefined;
        this.state = HEADER;
        this.headGot = 0;
        this.headNeed = 2;
        this.fragmented = false;
        this.listener!.onTransportConnect();
        return this.state !== IDLE;
      }
    }
    this.responseLength = n;
    return false;
  }

  /** What is wrong with the upgrade response, or "" when it accepts ours. */
  private checkResponse(text: string): string {
    const lines = text.split("\r\n"), status = lines[0];
    if (!/^HTTP\/1\.1 101[ \r]/.test(status + "\r")) return `the server answered "${status}" instead of switching to WebSocket`;
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(":");
      if (colon > 0) headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
    }
    if ((headers.upgrade ?? "").toLowerCase() !== "websocket") return `Upgrade is "${headers.upgrade ?? ""}", not "websocket"`;
    if (!(headers.connection ?? "").toLowerCase().split(",").some((t) => t.trim() === "upgrade")) return `Connection is "${headers.connection ?? ""}", not "Upgrade"`;
    if (headers["sec-websocket-accept"] !== this.accept) return `Sec-WebSocket-Accept is "${headers["sec-websocket-accept"] ?? ""}", expected "${this.accept}"`;
    if (headers["sec-websocket-protocol"] !== this.protocol)
      return `the server did not select the subprotocol "${this.protocol}" (Sec-WebSocket-Protocol: "${headers["sec-websocket-protocol"] ?? ""}")`;
    if (headers["sec-websocket-extensions"]) return `the server chose extensions we did not offer: ${headers["sec-websocket-extensions"]}`;
    return "";
  }

  private where(problem: string): string {
    return `WebSocket handshake with ${this.host}:${this.port}${this.path} failed: ${problem}`;
  }

  // -------------------------------------------------------------------------------------------
  // Ending

  /** A frame the protocol forbids: tell the server why (best effort), end the connection, report it. */
  private protocolError(code: number, what: string): boolean {
    this.sendClose(code);
    this.fail(true, `WebSocket protocol error: the server sent ${what}`);
    return false;
  }

  /** Ends the connection and tells the listener once; never throws (this runs inside host callbacks). */
  private fail(error: boolean, reason: string | undefined): void {
    const l = this.listener;
    this.shut();
    if (!l) return;
    try {
      l.onTransportClose(error, reason);
    } catch {
      // The listener reports its own errors; nothing may escape into the host.
    }
  }

  close(): void {
    // A clean end says so to the server (code 1000) when the window has room; the inner close follows at once.
    if (this.state >= HEADER) this.sendClose(CLOSE_NORMAL);
    this.shut();
  }

  private shut(): void {
    this.listener = undefined;
    const was = this.state;
    this.state = IDLE;
    this.remaining = 0;
    this.fragmented = false;
    this.pongOwed = -1;
    this.response = undefined;
    this.request = undefined;
    if (this.timer !== undefined) {
      Timer.clear(this.timer);
      this.timer = undefined;
    }
    if (was !== IDLE) this.inner.close();
  }
}
