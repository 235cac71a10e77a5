// Transport over Moddable's `securesocket`: MQTT over TLS (port 8883), the broker's certificate checked by default.
// Moddable's TLS speaks TLS 1.0-1.2 (no 1.3) with RSA, DHE-RSA and ECDHE (P-256) AES suites. Its socket hands
// decrypted bytes over only inside the readable callback, so everything is read there, byte by byte (its bulk
// reads allocate a new buffer each time).
import SecureSocket from "securesocket";
import Resource from "Resource";
import type { Transport, TransportListener } from "./transport";

export interface TlsOptions {
  /**
   * The CA certificate the broker's chain must end in: a resource the manifest bundles (`"resources": {"*":
   * ["./broker-ca"]}` for broker-ca.der), DER (kept in flash) or PEM (decoded into RAM once). Default: the
   * certificates of Moddable's store that the manifest lists ($(MODULES)/crypt/data/caN).
   */
  ca?: string;
  /** The CA certificate's DER bytes instead of a resource (e.g. provisioned at run time). */
  certificate?: ArrayBuffer | Uint8Array;
  /** Check the broker's certificate chain, dates and name (default true). false only to debug: anyone can then
   *  pose as the broker and read the password. */
  verify?: boolean;
  /** TLS version offered and required: 0x303 TLS 1.2 (default), 0x302 TLS 1.1, 0x301 TLS 1.0. */
  protocolVersion?: number;
  /** The name the certificate must hold (and SNI); default the host connected to. */
  serverName?: string;
  /** ALPN protocol id(s) offered, e.g. "x-amzn-mqtt-ca" for AWS IoT on port 443. */
  alpn?: string | string[];
  /** Moddable's TLS trace of each handshake step (to the console). */
  trace?: boolean;
}

/** Runtime forms of SecureSocket that the SDK's typings do not declare (modules/crypt/securesocket). */
interface SecureSocketRuntime {
  callback: (message: number, value?: number) => void;
  /** Bytes left of the data being delivered (only inside a readable callback). */
  read(): number;
  read(type: NumberConstructor): number;
  read(type: null, count: number): number;
  /** Space to write now, less 128 bytes of TLS overhead. */
  write(): number;
  write(data: Uint8Array): void;
  close(): void;
  /** The TLS session (Moddable's ssl/session), still there while the error callback runs: what went wrong. */
  ssl?: { alert?: { level: number; description: number }; chosenCipher?: unknown };
}

/** TLS alerts a broker sends (RFC 5246 7.2) and what to do about each. */
const alerts: Record<number, string> = Object.freeze({
  10: "unexpected_message: the broker misread the handshake",
  20: "bad_record_mac",
  40: "handshake_failure: no cipher suite in common (Moddable offers AES with RSA, DHE-RSA and ECDHE-RSA/ECDSA on P-256; the broker needs one of them)",
  42: "bad_certificate: the broker refused the client certificate",
  43: "unsupported_certificate",
  44: "certificate_revoked",
  45: "certificate_expired",
  46: "certificate_unknown",
  47: "illegal_parameter",
  48: "unknown_ca: the broker does not trust the client certificate's CA",
  49: "access_denied",
  50: "decode_error",
  51: "decrypt_error",
  70: "protocol_version",
  71: "insufficient_security: the broker wants stronger cipher suites than Moddable offers",
  80: "internal_error (on the broker)",
  112: "unrecognized_name: the broker does not serve that host name (SNI); set serverName",
});

/** Before this (2020-09-13) the board's clock is surely unset, and every certificate looks out of date. */
const CLOCK_SET = 1600000000000;

export class TlsTransport implements Transport {
  private socket: SecureSocketRuntime | undefined;
  private listener: TransportListener | undefined;
  private connected = false;
  private host = "";
  private port = 0;
  /** Decrypted bytes left in the current readable callback (reads are only possible inside it). */
  private incoming = 0;
  private readonly secure: Record<string, unknown>;

  constructor(options: TlsOptions = {}) {
    const version = options.protocolVersion ?? 0x303;
    if (version !== 0x301 && version !== 0x302 && version !== 0x303)
      throw new Error(`TLS protocolVersion 0x${version.toString(16)}: Moddable's TLS speaks 0x301 (TLS 1.0), 0x302 (1.1) and 0x303 (1.2)`);
    // Built once: Moddable keeps the dictionary's values for the session, so connections share them.
    const secure: Record<string, unknown> = { protocolVersion: version, verify: options.verify !== false };
    const certificate = options.certificate ?? (options.ca !== undefined ? loadCertificate(options.ca) : undefined);
    if (certificate !== undefined) secure.certificate = certificate;
    if (options.serverName !== undefined) secure.serverName = options.serverName;
    if (options.alpn !== undefined) secure.applicationLayerProtocolNegotiation = options.alpn;
    if (options.trace) secure.trace = true;
    this.secure = secure;
  }

  open(host: string, port: number, listener: TransportListener): void {
    this.close();
    this.listener = listener;
    this.host = host;
    this.port = port;
    const self = this;
    // The session copies the dictionary's entries: a fresh `secure` each time leaves ours untouched.
    const socket = new SecureSocket({ host, port, secure: { ...this.secure } }) as unknown as SecureSocketRuntime;
    socket.callback = function (message: number, value?: number) {
      if (self.socket !== socket) return;
      try {
        const l = self.listener!;
        if (message === 2) {
          self.incoming = value!;
          l.onTransportData();
          // Moddable drops what the callback leaves unread: that would corrupt the MQTT stream.
          if (self.socket === socket && self.incoming > 0) self.fail(true, `${self.incoming} decrypted bytes left unread`);
          self.incoming = 0;
        } else if (message === 3) l.onTransportWritable();
        else if (message === 1) {
          // Moddable reports a handshake it ended with its own alert (a TLS version below ours) as connected.
          const alert = socket.ssl?.alert;
          if (alert) self.fail(true, self.handshakeFailed(alert.description, false));
          else {
            self.connected = true;
            l.onTransportConnect();
          }
        } else if (message < 0) self.fail(message === -2 || !self.connected, self.connected ? "" : self.whyNotConnected(socket));
      } catch (e) {
        self.fail(true, `exception in the TLS socket callback: ${(e as Error).message}`);
      }
    };
    this.socket = socket;
  }

  /** Why the handshake did not finish, from what the TLS session recorded (Moddable reports only "error"). */
  private whyNotConnected(socket: SecureSocketRuntime): string {
    const ssl = socket.ssl;
    if (ssl?.alert) return this.handshakeFailed(ssl.alert.description, true);
    const where = `${this.host}:${this.port}`;
    if (!ssl?.chosenCipher)
      return `TLS to ${where}: no TLS answer (nothing listens there, or it is not a TLS port: MQTT over TLS is usually 8883, 1883 is plain)`;
    const clock = Date.now() < CLOCK_SET ? ` The board's clock is not set: set it (SNTP) before connecting, Moddable checks certificate dates against it.` : "";
    // Moddable reports every certificate failure the same way; its trace line (if any) tells them apart.
    return `TLS to ${where}: the broker's certificate was refused.${clock} Check that it names "${this.serverName()}" in its subjectAltName ` +
      `(else connect by a name it holds); that the broker sends its CA (or intermediate) after it, Moddable refuses a certificate ` +
      `sent alone (both trace "subjectAltName match failed"); that it is signed by the CA given as \`ca\` (or one of Moddable's store ` +
      `listed in the manifest's resources); that it is within its dates (traced "date validation failed").`;
  }

  private handshakeFailed(description: number, byBroker: boolean): string {
    const where = `${this.host}:${this.port}`;
    const version = (this.secure.protocolVersion as number) - 0x301;
    if (description === 70) {
      return byBroker
        ? `TLS to ${where}: the broker refused TLS 1.${version} (alert protocol_version): Moddable's TLS has no TLS 1.3; allow TLS 1.2 on the broker`
        : `TLS to ${where}: the broker offered a TLS version below 1.${version}; lower protocolVersion only if you must`;
    }
    return `TLS to ${where}: the ${byBroker ? "broker" : "client"} ended the handshake: alert ${description} ${alerts[description] ?? ""}`.trimEnd();
  }

  private serverName(): string {
    return (this.secure.serverName as string | undefined) ?? this.host;
  }

  /** Ends the connection and tells the listener once; never throws (this runs inside host callbacks). */
  private fail(error: boolean, reason: string): void {
    const l = this.listener;
    this.close();
    if (!l) return;
    try {
      l.onTransportClose(error, reason || undefined);
    } catch {
      // The listener reports its own errors; nothing may escape into the host.
    }
  }

  available(): number {
    return this.incoming;
  }

  readByte(): number {
    this.incoming--;
    return this.socket!.read(Number);
  }

  readInto(dst: Uint8Array, offset: number, max: number): number {
    const s = this.socket!;
    const n = max < this.incoming ? max : this.incoming;
    for (let i = 0; i < n; i++) dst[offset + i] = s.read(Number);
    this.incoming -= n;
    return n;
  }

  readAll(dst: Uint8Array): void {
    this.readInto(dst, 0, dst.length);
  }

  skip(max: number): number {
    const n = this.socket!.read(null, max < this.incoming ? max : this.incoming);
    this.incoming -= n;
    return n;
  }

  writable(): number {
    const s = this.socket;
    return s && this.connected ? s.write() : 0;
  }

  write(packet: Uint8Array): boolean {
    const s = this.socket;
    if (!s || !this.connected || packet.length > s.write()) return false;
    try {
      s.write(packet);
    } catch (e) {
      this.fail(true, `TLS write failed: ${(e as Error).message}`);
      return false;
    }
    return true;
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    this.listener = undefined;
    this.connected = false;
    this.incoming = 0;
    if (s) {
      s.callback = ignore;
      try { s.close(); } catch { /* already closed */ }
    }
  }
}

function ignore(): void { /* a closed socket's late events */ }

/** The CA certificate in the resource `name`: DER as the resource itself (in flash), PEM decoded to DER. */
function loadCertificate(name: string): ArrayBuffer | Uint8Array {
  if (!Resource.exists(name))
    throw new Error(`TLS CA certificate "${name}" is not among the firmware's resources: add it to the manifest's "resources" (e.g. "resources": {"*": ["./${name.replace(/\.(der|pem)$/, "")}"]})`);
  const resource = new Resource(name);
  if (!name.endsWith(".pem")) return resource as unknown as ArrayBuffer;
  const der = pemToDer(resource.slice(0));
  if (!der) throw new Error(`TLS CA certificate "${name}" holds no PEM "-----BEGIN CERTIFICATE-----" block`);
  return der;
}

const BEGIN = "-----BEGIN CERTIFICATE-----";

/** The first certificate of a PEM text, decoded from base64; undefined without one. */
export function pemToDer(pem: ArrayBuffer): Uint8Array | undefined {
  const text = String.fromArrayBuffer(pem);
  const start = text.indexOf(BEGIN);
  if (start < 0) return undefined;
  const end = text.indexOf("-----END", start + BEGIN.length);
  if (end < 0) return undefined;
  const out = new Uint8Array(((end - start) * 3) >> 2);
  let bits = 0, value = 0, n = 0;
  for (let i = start + BEGIN.length; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c >= 65 && c <= 90 ? c - 65 : c >= 97 && c <= 122 ? c - 71 : c >= 48 && c <= 57 ? c + 4 : c === 43 ? 62 : c === 47 ? 63 : -1;
    if (v < 0) continue; // line breaks, padding
    value = ((value << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (value >> bits) & 255;
    }
  }
  return out.slice(0, n);
}
