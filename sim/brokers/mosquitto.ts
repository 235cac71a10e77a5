// Starts a real mosquitto on a free 127.0.0.1 port with a generated config (optionally with password
// auth and persistence), for tests and benches. Stop it, kill it, restart it on the same port.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface MosquittoOptions {
  /** user -> password; when set, anonymous clients are refused. */
  users?: Record<string, string>;
  /** Keep sessions and queued messages across restarts (persistence to a file). */
  persistence?: boolean;
  port?: number;
  /** More mosquitto.conf lines (a bridge, another listener...), appended as given. */
  config?: string[];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The mosquitto binary: $XSMQ_MOSQUITTO when set, else where Debian and others install it. */
export function mosquittoPath(): string {
  const chosen = process.env.XSMQ_MOSQUITTO;
  if (chosen) {
    if (existsSync(chosen)) return chosen;
    throw new Error(`XSMQ_MOSQUITTO=${chosen}: no such file; apt-get install -y mosquitto, or point it at a mosquitto binary`);
  }
  for (const p of ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]) if (existsSync(p)) return p;
  throw new Error("mosquitto is not installed: apt-get install -y mosquitto (bash .ci/run does it)");
}

/** Running brokers: killed when this process exits without closing them (a crash, a pipe closed under it), so
 *  no mosquitto outlives its test or `xsmq sim`. */
const running = new Set<Mosquitto>();
let exitHook = false;

export class Mosquitto {
  readonly port: number;
  readonly dir: string;
  private proc: ChildProcess | undefined;
  log = "";

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), "xsmq-mosq-"));
    const lines = [`listener ${port} 127.0.0.1`, `persistence ${options.persistence ? "true" : "false"}`, `persistence_location ${dir}/`,
      "log_dest stderr",
      // Started as root, mosquitto would switch to its own user and lose access to our temp files.
      ...(process.getuid?.() === 0 ? ["user root"] : []), "log_type error", "log_type warning", "max_queued_messages 10000", "autosave_interval 0"];
    if (options.users) {
      const pw = join(dir, "passwd");
      writeFileSync(pw, Object.entries(options.users).map(([u, p]) => `${u}:${p}`).join("\n") + "\n", { mode: 0o600 });
      execFileSync("mosquitto_passwd", ["-U", pw], { stdio: "ignore" });
      lines.push("allow_anonymous false", `password_file ${pw}`);
    } else lines.push("allow_anonymous true");
    if (options.config) lines.push(...options.config);
    writeFileSync(join(dir, "mosquitto.conf"), lines.join("\n") + "\n");
    const m = new Mosquitto(port, dir);
    await m.launch();
    return m;
  }

  get url(): string { return `mqtt://127.0.0.1:${this.port}`; }

  private async launch(): Promise<void> {
    const proc = spawn(mosquittoPath(), ["-c", join(this.dir, "mosquitto.conf")], { stdio: ["ignore", "ignore", "pipe"] });
    this.proc = proc;
    running.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on("exit", () => {
        for (const m of running) {
          m.proc?.kill("SIGKILL");
          rmSync(m.dir, { recursive: true, force: true });
        }
      });
    }
    proc.stderr!.on("data", (d) => { this.log += d; });
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}): ${this.log}`);
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`mosquitto did not listen on ${this.port} within 5 s: ${this.log}`);
  }

  /** SIGKILL: no clean shutdown, sockets reset. */
  async kill(): Promise<void> { await this.stopWith("SIGKILL"); }
  /** SIGTERM: orderly stop (persistence saved). */
  async stop(): Promise<void> { await this.stopWith("SIGTERM"); }

  private async stopWith(signal: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => { p.once("exit", () => resolve()); p.kill(signal); });
  }

  /** Stops it (SIGTERM: orderly; SIGKILL: it forgets what it had not saved) and starts it again on the same port,
   *  `downMs` later. */
  async restart(signal: "SIGTERM" | "SIGKILL" = "SIGTERM", downMs = 0): Promise<void> {
    await this.stopWith(signal);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  async close(): Promise<void> {
    await this.kill();
    running.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    import("node:net").then(({ connect }) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => { s.destroy(); resolve(true); });
      s.once("error", () => resolve(false));
    });
  });
}
