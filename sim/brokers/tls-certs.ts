// Certificate authorities and broker certificates made on the spot with `openssl` (Debian's package), for brokers
// that listen with TLS on loopback: tests, benchmarks and the local Adafruit IO emulator. Never a public CA.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface IssueOptions {
  /** subjectAltName DNS names (default ["localhost"]). */
  dns?: string[];
  /** subjectAltName IP addresses (default ["127.0.0.1"]). */
  ips?: string[];
  /** Valid only in 2020 (long expired). */
  expired?: boolean;
}

export interface BrokerCertificate {
  /** PEM: the certificate followed by its CA's, the chain a broker sends (Moddable refuses a lone certificate). */
  chainFile: string;
  /** PEM: the certificate alone. */
  certFile: string;
  keyFile: string;
}

export function opensslPath(): string {
  for (const p of ["/usr/bin/openssl", "/usr/local/bin/openssl"]) if (existsSync(p)) return p;
  throw new Error("openssl is not installed: apt-get install -y openssl (bash .ci/run does it)");
}

function openssl(cwd: string, args: string[]): void {
  execFileSync(opensslPath(), args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA in its own directory: its certificate as PEM and DER files, and the broker certificates it issues. */
export class TestCA {
  readonly dir: string;
  readonly name: string;
  /** PEM file of the CA certificate (mosquitto's cafile, a PEM resource). */
  readonly pemFile: string;
  /** DER file of the CA certificate (what Moddable's `certificate`/a DER resource holds). */
  readonly derFile: string;
  private serial = 1;

  constructor(name = "xsmq test CA", dir = mkdtempSync(join(tmpdir(), "xsmq-ca-"))) {
    this.dir = dir;
    this.name = name;
    this.pemFile = join(dir, "ca.pem");
    this.derFile = join(dir, "ca.der");
    openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj", `/CN=${name}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(dir, ["x509", "-in", "ca.pem", "-outform", "der", "-out", "ca.der"]);
    writeFileSync(join(dir, "index.txt"), "");
    writeFileSync(join(dir, "ca.cnf"), [
      "[ca]", "default_ca = this", "[this]", "database = index.txt", "new_certs_dir = .", "serial = serial.txt", "default_md = sha256",
      "policy = any", "unique_subject = no", "[any]", "commonName = supplied", ""].join("\n"));
  }

  get der(): Uint8Array { return readFileSync(this.derFile); }
  get pem(): string { return readFileSync(this.pemFile, "utf8"); }

  /** A broker certificate (RSA 2048, SHA-256) for `file`.{pem,key,chain.pem}. */
  issue(file: string, options: IssueOptions = {}): BrokerCertificate {
    const dir = this.dir;
    const san = [...(options.dns ?? ["localhost"]).map((d) => `DNS:${d}`), ...(options.ips ?? ["127.0.0.1"]).map((ip) => `IP:${ip}`)].join(",");
    writeFileSync(join(dir, `${file}.ext`), [`subjectAltName=${san}`, "basicConstraints=CA:FALSE", "keyUsage=digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth", "subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid", ""].join("\n"));
    openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${file}.key`, "-out", `${file}.csr`, "-subj", `/CN=${(options.dns ?? ["localhost"])[0] ?? file}`]);
    writeFileSync(join(dir, "serial.txt"), (this.serial++).toString(16).padStart(2, "0") + "\n");
    const now = new Date();
    const start = options.expired ? "20200101000000Z" : stamp(new Date(now.getTime() - 86400000));
    const end = options.expired ? "20201231000000Z" : stamp(new Date(now.getTime() + 825 * 86400000));
    openssl(dir, ["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", `${file}.csr`, "-out", `${file}.pem`,
      "-startdate", start, "-enddate", end, "-extfile", `${file}.ext`, "-notext"]);
    const chainFile = join(dir, `${file}.chain.pem`);
    writeFileSync(chainFile, readFileSync(join(dir, `${file}.pem`), "utf8") + this.pem);
    return { chainFile, certFile: join(dir, `${file}.pem`), keyFile: join(dir, `${file}.key`) };
  }
}

/** openssl ca's date form, YYYYMMDDHHMMSSZ. */
function stamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
}

/** mosquitto.conf lines for a TLS listener on `port` (127.0.0.1) with `cert`; `version` e.g. "tlsv1.2" or "tlsv1.3". */
export function mosquittoTlsListener(port: number, ca: TestCA, cert: BrokerCertificate, version?: string): string[] {
  return [`listener ${port} 127.0.0.1`, `cafile ${ca.pemFile}`, `certfile ${cert.chainFile}`, `keyfile ${cert.keyFile}`,
    ...(version ? [`tls_version ${version}`] : [])];
}
