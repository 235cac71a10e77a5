// Node implementation of Moddable's `securesocket` (modules/crypt/securesocket, documentation/network/securesocket.md):
// node:tls over this simulator's `socket` (so the board's network conditions apply to the records), offering what
// Moddable's TLS client offers (TLS 1.0-1.2, its cipher suites, P-256, SHA-256 signatures) and checking the broker's
// name by subjectAltName only, as Moddable does. Failures are reported as Moddable reports them: callback(-2)
// (-1 when the TCP connection ended), with the session's `alert` set when the broker sent one, and the lines
// Moddable traces (a subjectAltName mismatch, dates).
import tls from "node:tls";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { isIP } from "node:net";
import { Duplex } from "node:stream";
import { Socket } from "./socket.ts";
import { currentBoard, type Board } from "../board.ts";

// Moddable's suites (modules/crypt/ssl/ssl_ciphersuites.js), DHE_RSA and ECDHE_RSA unless config.tls turns them off.
const RSA_SUITES = ["AES128-SHA", "AES256-SHA", "AES128-SHA256", "AES256-SHA256"];
const DHE_SUITES = ["DHE-RSA-AES128-SHA256", "DHE-RSA-AES256-SHA256", "DHE-RSA-AES128-GCM-SHA256"];
const ECDHE_SUITES = ["ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"];
const VERSIONS: Record<number, tls.SecureVersion> = { 0x301: "TLSv1", 0x302: "TLSv1.1", 0x303: "TLSv1.2" };
/** What Moddable's TLS client offers by default (TLS 1.2, its suites, P-256, SHA-256 signatures), as node:tls options:
 *  for a Node client held to the same terms (bench/tls.bench.ts's MQTT.js). */
export const moddableTls = Object.freeze({
  minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: [...RSA_SUITES, ...DHE_SUITES, ...ECDHE_SUITES].join(":"),
  ecdhCurve: "P-256", sigalgs: "ECDSA+SHA256:RSA+SHA256",
} satisfies tls.ConnectionOptions);
/** Moddable delivers decrypted data in pieces of at most this many bytes. */
const MAX_PIECE = 1024;
/** Moddable's estimate of a record's overhead, kept out of write(). */
const OVERHEAD = 128;

type Callback = (this: SecureSocket, message: number, value?: number) => void;
type Bytes = ArrayBuffer | ArrayBufferView;

interface SecureOptions {
  protocolVersion?: number;
  certificate?: Bytes;
  verify?: boolean;
  trace?: boolean;
  serverName?: string;
  applicationLayerProtocolNegotiation?: string | ArrayBuffer | (string | ArrayBuffer)[];
  clientKey?: Bytes;
  clientCertificates?: Bytes[];
  tls_max_fragment_length?: number;
}

/** What TlsTransport reads of Moddable's ssl/session while the error callback runs. */
interface SessionState {
  alert?: { level: number; description: number };
  chosenCipher?: { name: string; version: string };
}

export default class SecureSocket {
  callback: Callback | undefined = undefined;
  sock: Socket | undefined;
  ssl: SessionState | undefined = {};

  private readonly board: Board;
  private readonly tls: tls.TLSSocket;
  private readonly stream: SocketStream;
  private handshaking = true;
  private closing = false;
  /** node:tls saw the end of the stream: -1 once the data before it is delivered. */
  private ended = false;
  private traced = false;
  private warnedUnread = false;
  // Decrypted data waiting for delivery, and the piece being delivered (Moddable's `data`).
  private rx: Buffer[] = [];
  private data: Buffer | undefined = undefined;
  private position = 0;
  private serviceQueued = false;
  /** Plaintext handed to node:tls whose records have not reached the socket yet. */
  private pendingPlain = 0;

  constructor(dict: Record<string, any>) {
    if (dict === null || typeof dict !== "object") throw new Error("invalid dictionary");
    this.board = currentBoard();
    const secure: SecureOptions = { ...dict.secure };
    const sock: Socket = dict.sock ?? new Socket(dict);
    this.sock = sock;
    const name: string | undefined = secure.serverName ?? dict.host;
    let options: tls.ConnectionOptions;
    try {
      options = this.tlsOptions(secure, name);
    } catch (e) {
      sock.close();
      throw e;
    }
    this.stream = new SocketStream(sock, this);
    const socket = tls.connect({ ...options, socket: this.stream });
    this.tls = socket;
    socket.on("secureConnect", () => this.secured());
    socket.on("data", (chunk: Buffer) => this.decrypted(chunk));
    socket.on("error", (e: Error & { code?: string }) => this.tlsError(e));
    socket.on("end", () => {
      // The broker closed (close_notify or FIN): what it sent before is delivered first.
      this.ended = true;
      this.schedule();
    });
  }

  private tlsOptions(secure: SecureOptions, name: string | undefined): tls.ConnectionOptions {
    const version = secure.protocolVersion;
    // Moddable's session: protocolVersion is the version offered and the least accepted; without it, 1.0 to 1.2.
    if (version !== undefined && VERSIONS[version] === undefined) throw new TLSError("protocolVersion: not supported");
    const verify = secure.verify ?? true;
    const config = this.board.config.tls as unknown as { DHE_RSA?: boolean; ECDHE_RSA?: boolean } | undefined;
    const suites = [...RSA_SUITES, ...(config?.DHE_RSA === false ? [] : DHE_SUITES), ...(config?.ECDHE_RSA === false ? [] : ECDHE_SUITES)];
    const oldVersion = version !== undefined && version < 0x303;
    const options: tls.ConnectionOptions = {
      minVersion: VERSIONS[version ?? 0x301],
      maxVersion: VERSIONS[version ?? 0x303],
      // OpenSSL 3 refuses TLS 1.0/1.1 at its default security level; a board would still try them.
      ciphers: suites.join(":") + (oldVersion || version === undefined ? ":@SECLEVEL=0" : ""),
      ecdhCurve: moddableTls.ecdhCurve,
      sigalgs: moddableTls.sigalgs,
      rejectUnauthorized: verify,
      checkServerIdentity: (_host, cert) => (verify ? this.checkName(name, cert) : undefined),
    };
    if (name !== undefined && isIP(name) === 0) options.servername = name;
    if (secure.certificate !== undefined) {
      // The given CA, beside the store (Moddable still looks up ca.ski when the chain does not end in it).
      const ca = new X509Certificate(bytes(secure.certificate));
      if (verify) {
        const now = Date.now();
        if (!(Date.parse(ca.validFrom) < now && now < Date.parse(ca.validTo))) throw new Error("date validation failed");
      }
      options.ca = [ca.toString(), ...tls.rootCertificates];
    }
    if (secure.clientKey !== undefined && secure.clientCertificates?.length) {
      options.key = createPrivateKey({ key: bytes(secure.clientKey), format: "der", type: "pkcs8" }).export({ format: "pem", type: "pkcs8" }) as string;
      options.cert = secure.clientCertificates.map((c) => new X509Certificate(bytes(c)).toString());
    }
    const alpn = secure.applicationLayerProtocolNegotiation;
    if (alpn !== undefined) options.ALPNProtocols = (Array.isArray(alpn) ? alpn : [alpn]).map((p) => (typeof p === "string" ? p : bytes(p).toString("latin1")));
    if (secure.trace) this.traced = true;
    return options;
  }

  /** Moddable's check (ssl/cert verify): a subjectAltName dNSName (one leading "*." label) or IPv4 address. */
  private checkName(name: string | undefined, cert: tls.PeerCertificate): Error | undefined {
    const wanted = name?.toLowerCase();
    if (!wanted) {
      this.trace("tls_server_name required\n");
      return nameError("no server name to check the certificate against");
    }
    // Moddable checks the name while walking the chain up from the certificate: with no certificate above it
    // (a broker that sends its own alone) it never does, and refuses it with the same trace.
    if (this.stream.certificates.count === 1) {
      this.trace(`subjectAltName match failed for ${wanted}\n`);
      return nameError("the broker sent its certificate without its chain");
    }
    for (const entry of (cert.subjectaltname ?? "").split(", ")) {
      const [kind, value] = [entry.slice(0, entry.indexOf(":")), entry.slice(entry.indexOf(":") + 1).toLowerCase()];
      if (kind === "DNS") {
        if (value.startsWith("*.")) {
          const dot = wanted.indexOf(".");
          if (dot >= 0 && value.indexOf("*", 1) < 0 && value.slice(1) === wanted.slice(dot)) return undefined;
        } else if (value === wanted) return undefined;
      } else if (kind === "IP Address" && isIP(value) === 4 && value === wanted) return undefined;
    }
    this.trace(`subjectAltName match failed for ${wanted}\n`);
    return nameError(`the certificate does not name ${wanted}`);
  }

  // --- the app's calls ---

  /** Bytes left (no argument), one byte (Number), a String/ArrayBuffer, or a skip count (null); only while data is delivered. */
  read(type?: unknown, until?: unknown): any {
    const data = this.data;
    // Moddable reads `this.data`, which exists only inside the readable callback.
    if (data === undefined) throw new TypeError("SecureSocket read outside a readable callback");
    const left = data.length - this.position;
    if (arguments.length === 0) return left;
    if (left === 0) return undefined;
    let count = left;
    if (typeof until === "number" && until < count) count = Math.max(0, Math.trunc(until));
    else if (typeof until === "string" && until.length > 0) {
      const at = data.indexOf(until.charCodeAt(0), this.position);
      if (at >= 0) count = at - this.position + 1;
    }
    const at = this.position;
    if (type === Number) {
      this.position = at + 1;
      return data[at];
    }
    this.position = at + count;
    if (type === null) return count;
    if (type === String) return data.toString("utf8", at, at + count);
    if (type === ArrayBuffer) return data.buffer.slice(data.byteOffset + at, data.byteOffset + at + count);
    throw new Error("unsupported output type");
  }

  /** Space to write (no argument: the socket's less 128), or encrypts every argument as one record, all or nothing. */
  write(...args: unknown[]): any {
    const sock = this.sock;
    if (!sock) throw new TypeError("write on a closed SecureSocket");
    const free = sock.write() - this.stream.queued - this.pendingPlain;
    const available = free < OVERHEAD ? 0 : free - OVERHEAD;
    if (args.length === 0) return available;
    const parts = args.map((a) => (typeof a === "string" ? Buffer.from(a, "utf8") : typeof a === "number" ? Buffer.of(a & 255) : copy(a)));
    const record = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (record.length > available) throw new Error("can't write all data");
    if (record.length > 16384) return -1; // Moddable's session refuses more than one record's worth
    this.pendingPlain += record.length;
    this.tls.write(record, () => {
      // On a board the record is in the socket at once; here it got there now: room the app may wait for.
      this.pendingPlain -= record.length;
      if (this.pendingPlain === 0) this.socketWritable();
    });
  }

  close(): void {
    this.closing = true;
    this.tls.destroy();
    this.sock?.close();
    this.sock = undefined;
    this.ssl = undefined;
    this.rx = [];
    this.data = undefined;
  }

  // --- what node:tls and the socket report ---

  private secured(): void {
    const cipher = this.tls.getCipher();
    if (this.ssl) this.ssl.chosenCipher = { name: cipher.name, version: cipher.version };
    if (this.traced) this.trace(`FINISHED: ${cipher.version} ${cipher.name}\n`);
    this.handshaking = false;
    this.notify(1);
  }

  private tlsError(e: Error & { code?: string }): void {
    if (this.closing) return;
    const ssl = this.ssl ?? {};
    const alert = /alert number (\d+)/.exec(e.message);
    if (alert) ssl.alert = { level: 2, description: Number(alert[1]) };
    if (this.tls.authorizationError) {
      // The handshake went as far as the broker's certificate, which was refused.
      const cipher = this.tls.getCipher();
      ssl.chosenCipher = cipher ? { name: cipher.name, version: cipher.version } : { name: "", version: "" };
      const code = String(this.tls.authorizationError);
      if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") this.trace("date validation failed on received certificate\n");
    }
    if (this.traced) this.trace(`SecureSocket: ${e.message}\n`);
    // The connection ended during the handshake, no verdict given: Moddable's socket reports "disconnected".
    if (e.code === "ECONNRESET" && !alert && !this.tls.authorizationError) {
      this.report(Socket.disconnected);
      return;
    }
    if (e.code === "ERR_SSL_UNSUPPORTED_PROTOCOL" && this.handshaking) {
      // The broker chose a version below ours: Moddable's session sends alert 70 and reports the handshake done.
      ssl.alert = { level: 2, description: 70 };
      this.trace("ALERT! (2, 70\n");
      this.handshaking = false;
      this.notify(1);
      return;
    }
    this.report(Socket.error);
  }

  /** The socket under TLS (or TLS itself) failed or ended: Moddable's `closing` message, once. */
  report(message: number): void {
    if (this.closing) return;
    this.notify(message);
    this.close();
  }

  private decrypted(chunk: Buffer): void {
    if (this.closing) return;
    this.rx.push(chunk);
    this.schedule();
  }

  private schedule(): void {
    if (!this.serviceQueued) {
      this.serviceQueued = true;
      setImmediate(() => this.deliver());
    }
  }

  /** Moddable's messageHandler: the decrypted data in pieces of up to 1 KB, each read inside its callback. */
  private deliver(): void {
    this.serviceQueued = false;
    while (!this.closing && this.rx.length > 0) {
      const chunk = this.rx.shift() as Buffer;
      for (let at = 0; at < chunk.length && !this.closing; at += MAX_PIECE) {
        const piece = chunk.subarray(at, Math.min(chunk.length, at + MAX_PIECE));
        this.data = piece;
        this.position = 0;
        this.notify(2, piece.length);
        if (this.data === piece && this.position < piece.length && !this.warnedUnread) {
          this.warnedUnread = true;
          this.board.traceSink(`securesocket: readable callback left ${piece.length - this.position} bytes unread; Moddable drops them\n`);
        }
        this.data = undefined;
      }
    }
    if (this.ended) this.report(Socket.disconnected);
  }

  /** The TCP connection under TLS ended: node:tls finishes what arrived before (a verdict on the certificate,
   *  data), then reports the end. */
  socketEnded(): void {
    this.stream.push(null);
  }

  /** The socket under TLS has room again: its records go first, then the app hears of the space left. */
  socketWritable(): void {
    this.stream.flush();
    if (this.handshaking || this.closing) return;
    const free = (this.sock?.write() ?? 0) - this.stream.queued;
    if (free > OVERHEAD) this.notify(3, free - OVERHEAD);
  }

  private notify(message: number, value?: number): void {
    if (this.closing) return;
    const callback = this.callback;
    if (typeof callback !== "function") return;
    try {
      this.board.call(callback, this, message, value);
    } catch (e) {
      // Moddable catches what the callback throws and ends the socket with an error.
      this.trace(`securesocket: exception in callback: ${(e as Error).message}\n`);
      if (message !== Socket.error && message !== Socket.disconnected) {
        try { this.board.call(callback, this, Socket.error, undefined); } catch { /* nowhere to go */ }
      }
      this.close();
    }
  }

  private trace(text: string): void {
    this.board.traceSink(text);
  }
}

/** The TLS records' way to and from the simulated socket: a Duplex for node:tls, fed from the socket's callback. */
class SocketStream extends Duplex {
  /** Record bytes written by node:tls that the socket had no room for yet. */
  queued = 0;
  readonly certificates = new CertificateCounter();
  private out: { data: Buffer; done: (error?: Error | null) => void }[] = [];
  private connected = false;

  constructor(private readonly sock: Socket, private readonly owner: SecureSocket) {
    super();
    const stream = this;
    sock.callback = function (message: number, value?: number) {
      if (message === Socket.connected) {
        stream.connected = true;
        stream.flush();
      } else if (message === Socket.readable) {
        const chunk = this.read(ArrayBuffer) as ArrayBuffer;
        if (chunk) {
          const data = Buffer.from(chunk);
          stream.certificates.feed(data);
          stream.push(data);
        }
      } else if (message === Socket.writable) owner.socketWritable();
      else if (message === Socket.disconnected) owner.socketEnded();
      else if (message === Socket.error) owner.report(message);
      void value;
    };
  }

  override _read(): void { /* data is pushed as the socket delivers it */ }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.out.push({ data: chunk, done });
    this.queued += chunk.length;
    this.flush();
  }

  override _final(done: (error?: Error | null) => void): void {
    done();
  }

  /** Writes what the socket has room for; a record may go in pieces (TCP is a byte stream). */
  flush(): void {
    if (!this.connected) return;
    while (this.out.length > 0) {
      let free: number;
      try { free = this.sock.write(); } catch { return; }
      if (free <= 0) return;
      const head = this.out[0];
      const n = Math.min(free, head.data.length);
      try { this.sock.write(head.data.subarray(0, n)); } catch { return; }
      this.queued -= n;
      if (n < head.data.length) {
        head.data = head.data.subarray(n);
        return;
      }
      this.out.shift();
      head.done();
    }
  }
}

/** Counts the certificates of the broker's Certificate message, which TLS 1.2 sends in the clear (RFC 5246 7.4.2). */
class CertificateCounter {
  /** -1 until the message was seen. */
  count = -1;
  private done = false;
  private records = Buffer.alloc(0);
  private handshake = Buffer.alloc(0);

  feed(data: Buffer): void {
    if (this.done) return;
    this.records = Buffer.concat([this.records, data]);
    while (!this.done && this.records.length >= 5) {
      const type = this.records[0], length = this.records.readUInt16BE(3);
      if (this.records.length < 5 + length) return;
      const fragment = this.records.subarray(5, 5 + length);
      this.records = this.records.subarray(5 + length);
      if (type === 20) this.done = true; // ChangeCipherSpec: encrypted from here on
      else if (type === 22) this.message(fragment);
    }
  }

  private message(fragment: Buffer): void {
    this.handshake = Buffer.concat([this.handshake, fragment]);
    while (this.handshake.length >= 4) {
      const type = this.handshake[0], length = this.handshake.readUIntBE(1, 3);
      if (this.handshake.length < 4 + length) return;
      if (type === 11) {
        const body = this.handshake.subarray(4, 4 + length);
        let n = 0;
        for (let at = 3; at + 3 <= body.length; n++) at += 3 + body.readUIntBE(at, 3);
        this.count = n;
        this.done = true;
        return;
      }
      this.handshake = this.handshake.subarray(4 + length);
    }
  }
}

class TLSError extends Error {
  override name = "TLS";
}

function nameError(message: string): Error {
  return Object.assign(new Error(message), { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
}

function bytes(data: Bytes): Buffer {
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}

function copy(data: unknown): Buffer {
  if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) return Buffer.from(bytes(data));
  throw new Error("unsupported type for write");
}
