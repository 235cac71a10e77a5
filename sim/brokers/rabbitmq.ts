// Starts real RabbitMQ nodes (Debian `rabbitmq-server`, MQTT plugin) on free 127.0.0.1 ports for tests and
// benches: one node, or a cluster of several on this machine. Each start gets its own directory (data, logs,
// config, Erlang cookie), its own epmd port and node names; nothing touches the system service or /etc/rabbitmq.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./mosquitto.ts";

const SBIN = "/usr/lib/rabbitmq/bin"; // the real scripts (/usr/sbin's wrappers switch to the rabbitmq user)
const EPMD = ["/usr/bin/epmd", "/usr/lib/erlang/bin/epmd"];

export interface RabbitMQOptions {
  /** Nodes to start (default 1); more form one cluster (each joins the first, classic peer discovery). */
  nodes?: number;
  /** user -> password, with full access to the default vhost "/" (default maker:s3cret). */
  users?: Record<string, string>;
  /** user -> password, users that exist but may not use the vhost (their CONNACK is 5). */
  noAccess?: Record<string, string>;
  /** Whom a CONNECT without username logs in as (mqtt.default_user); default the first user. */
  anonymousAs?: string;
  /** Bound on the whole start-up (default 90 s; a node boots in about 10 s on 2 cores, one after the other). */
  startTimeoutMs?: number;
}

export class RabbitNode {
  /** MQTT listener. */
  readonly port: number;
  proc: ChildProcess | undefined;
  /** What the node printed (stdout and stderr), for error messages. */
  output = "";

  constructor(readonly name: string, port: number, readonly dir: string, readonly env: NodeJS.ProcessEnv) { this.port = port; }

  get url(): string { return `mqtt://127.0.0.1:${this.port}`; }
  get running(): boolean { return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null; }

  /** The node's log file (its boot and errors), or "" before it exists. */
  log(): string {
    const f = join(this.dir, "log", `${this.name}.log`);
    return existsSync(f) ? readFileSync(f, "utf8") : "";
  }

  launch(): void {
    const proc = spawn(join(SBIN, "rabbitmq-server"), [], { env: this.env, cwd: this.dir, stdio: ["ignore", "pipe", "pipe"] });
    this.proc = proc;
    const keep = (d: Buffer) => { this.output = (this.output + d).slice(-8000); };
    proc.stdout!.on("data", keep);
    proc.stderr!.on("data", keep);
    guard(proc);
  }

  /** SIGKILL: the node vanishes (sockets reset, no clean shutdown), as a crashed machine would. */
  async kill(): Promise<void> { await this.signal("SIGKILL"); }
  /** SIGTERM: orderly shutdown. */
  async stop(): Promise<void> { await this.signal("SIGTERM"); }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => { p.once("exit", () => resolve()); p.kill(signal); });
  }
}

/**
 * Kills `child` when this process ends first, however it ends (a failed run or a killed test worker must not leave
 * a node running: RabbitMQ ignores SIGINT): a watchdog shell, deaf to signals, reads a pipe from us; end of file
 * (we are gone) kills the child, a line (the child ended first) lets the watchdog go.
 */
function guard(child: ChildProcess): void {
  const watchdog = spawn("/bin/sh", ["-c", `trap '' INT TERM HUP; read _ || kill -9 ${child.pid}`], { stdio: ["pipe", "ignore", "ignore"] });
  watchdog.unref();
  (watchdog.stdin as unknown as { unref(): void }).unref(); // the pipe must not keep this process alive
  child.once("exit", () => watchdog.stdin!.end("\n"));
}

export class RabbitMQ {
  private constructor(readonly nodes: RabbitNode[], readonly dir: string, private readonly epmd: ChildProcess, private readonly baseEnv: NodeJS.ProcessEnv) {}

  /** The first node's MQTT port and URL. */
  get port(): number { return this.nodes[0].port; }
  get url(): string { return this.nodes[0].url; }

  static async start(options: RabbitMQOptions = {}): Promise<RabbitMQ> {
    if (!existsSync(join(SBIN, "rabbitmq-server")))
      throw new Error("rabbitmq-server is not installed: apt-get install -y rabbitmq-server (bash .ci/run does it)");
    const count = Math.max(1, options.nodes ?? 1);
    const users = options.users ?? { maker: "s3cret" };
    const noAccess = options.noAccess ?? {};
    const anonymous = options.anonymousAs ?? Object.keys(users)[0];
    const dir = mkdtempSync(join(tmpdir(), "xsmq-rabbit-"));
    const tag = randomBytes(3).toString("hex");
    const names = Array.from({ length: count }, (_, i) => `xsmq-${tag}-${i + 1}@localhost`);

    // One cookie and one epmd for the whole cluster (the nodes find each other through it), loopback only.
    writeFileSync(join(dir, ".erlang.cookie"), randomBytes(16).toString("hex").toUpperCase(), { mode: 0o600 });
    writeFileSync(join(dir, "rabbitmq-env.conf"), ""); // instead of /etc/rabbitmq/rabbitmq-env.conf
    writeFileSync(join(dir, "enabled_plugins"), "[rabbitmq_mqtt].\n");
    writeFileSync(join(dir, "definitions.json"), JSON.stringify(definitions(users, noAccess)));
    const epmdPort = await freePort();
    const epmdPath = EPMD.find((p) => existsSync(p));
    if (!epmdPath) throw new Error("epmd (Erlang) is missing: apt-get install -y rabbitmq-server brings it");
    const epmd = spawn(epmdPath, ["-port", String(epmdPort), "-address", "127.0.0.1"], { stdio: "ignore" });
    guard(epmd);
    const baseEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, LANG: "C.UTF-8", LC_ALL: "C.UTF-8",
      HOME: dir, // the Erlang cookie is read from $HOME/.erlang.cookie (server and rabbitmqctl alike)
      ERL_EPMD_PORT: String(epmdPort), ERL_EPMD_ADDRESS: "127.0.0.1",
      RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
      // The start script then execs the VM instead of staying as its parent: our child is the node itself,
      // and SIGTERM/SIGKILL reach it.
      RUNNING_UNDER_SYSTEMD: "true",
    };

    const nodes: RabbitNode[] = [];
    for (const name of names) {
      const nodeDir = join(dir, name.replace(/@.*/, ""));
      mkdirSync(nodeDir);
      const port = await freePort(), distPort = await freePort();
      const conf = [
        "listeners.tcp = none", // no AMQP: MQTT only
        `mqtt.listeners.tcp.default = 127.0.0.1:${port}`,
        "mqtt.allow_anonymous = true",
        `mqtt.default_user = ${anonymous}`, `mqtt.default_pass = ${users[anonymous]}`,
        "log.console = false", "log.file.level = info",
        // The first node loads the users; the others join it (classic peer discovery) and share its database (a
        // second import of 1000 users on a joining node was seen to stall its boot).
        ...(name === names[0] ? [`load_definitions = ${join(dir, "definitions.json")}`] : [
          "cluster_formation.peer_discovery_backend = classic_config",
          `cluster_formation.classic_config.nodes.1 = ${names[0]}`,
        ]),
      ];
      writeFileSync(join(nodeDir, "rabbitmq.conf"), conf.join("\n") + "\n");
      const env: NodeJS.ProcessEnv = {
        ...baseEnv,
        RABBITMQ_NODENAME: name,
        RABBITMQ_DIST_PORT: String(distPort),
        RABBITMQ_CONFIG_FILE: join(nodeDir, "rabbitmq.conf"),
        RABBITMQ_ADVANCED_CONFIG_FILE: join(nodeDir, "advanced.config"),
        RABBITMQ_MNESIA_BASE: join(nodeDir, "data"),
        RABBITMQ_LOG_BASE: join(nodeDir, "log"),
        RABBITMQ_PID_FILE: join(nodeDir, "pid"),
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
      };
      nodes.push(new RabbitNode(name, port, nodeDir, env));
    }
    const r = new RabbitMQ(nodes, dir, epmd, baseEnv);
    try {
      await waitListening(epmdPort, 5000, () => "epmd did not start");
      // One after the other: booted side by side, 3.10's MQTT plugin sometimes forms a client-id tracking Raft
      // cluster that never elects a leader (boot hangs at "leader not known"). Joining a running node is as fast.
      const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
      for (const n of nodes) {
        n.launch();
        await r.ready(n, deadline);
      }
      if (count > 1) {
        // A node that failed to join would run alone: say so rather than test that.
        const status = JSON.parse(await r.ctl(nodes[0], "cluster_status", "--formatter", "json")) as { running_nodes: string[] };
        const missing = names.filter((n) => !status.running_nodes.includes(n));
        if (missing.length) throw new Error(`RabbitMQ nodes ${missing.join(", ")} did not join ${names[0]}'s cluster: running ${status.running_nodes.join(", ")}`);
      }
    } catch (e) {
      await r.close();
      throw e;
    }
    return r;
  }

  /** Starts a node again (after kill/stop) and waits for its MQTT listener. */
  async restart(node: RabbitNode, timeoutMs = 90_000): Promise<void> {
    await node.stop();
    node.launch();
    await this.ready(node, Date.now() + timeoutMs);
  }

  /** Runs rabbitmqctl against a node (same cookie and epmd); resolves with its output. */
  async ctl(node: RabbitNode, ...args: string[]): Promise<string> {
    const ctlPort = String(await freePort());
    const env = { ...this.baseEnv, RABBITMQ_CTL_DIST_PORT_MIN: ctlPort, RABBITMQ_CTL_DIST_PORT_MAX: ctlPort };
    return new Promise((resolve, reject) => {
      execFile(join(SBIN, "rabbitmqctl"), ["-n", node.name, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`rabbitmqctl ${args.join(" ")}: ${err.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      });
    });
  }

  /** Kills every node and epmd, and removes the directory. */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    if (this.epmd.exitCode === null && this.epmd.signalCode === null)
      await new Promise<void>((resolve) => { this.epmd.once("exit", () => resolve()); this.epmd.kill("SIGKILL"); });
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async ready(node: RabbitNode, deadline: number): Promise<void> {
    const why = () => `RabbitMQ node ${node.name} (MQTT port ${node.port})` +
      `${node.running ? "" : ` exited (${node.proc?.exitCode ?? node.proc?.signalCode})`}: ${node.output.slice(-2000)}\n--- log tail ---\n${node.log().slice(-3000)}`;
    while (Date.now() < deadline) {
      if (!node.running) throw new Error(why());
      if (await canConnect(node.port)) {
        // The MQTT listener opens a moment before the users are imported (a login then gets CONNACK 4): wait for
        // the whole boot. (Not from the log: a burst of import lines makes Erlang's logger drop some, that one too.)
        const seconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
        await this.ctl(node, "await_startup", "--timeout", String(seconds)).catch((e) => { throw new Error(`${(e as Error).message}\n${why()}`); });
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`did not open its MQTT listener in time: ${why()}`);
  }
}

/** RabbitMQ definitions (users, vhost "/", permissions) loaded at boot, so no rabbitmqctl call is needed. */
function definitions(users: Record<string, string>, noAccess: Record<string, string>): object {
  // rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password)), 4-byte salt.
  const hash = (password: string) => {
    const salt = randomBytes(4);
    return Buffer.concat([salt, createHash("sha256").update(Buffer.concat([salt, Buffer.from(password, "utf8")])).digest()]).toString("base64");
  };
  const user = ([name, password]: [string, string]) => ({ name, password_hash: hash(password), hashing_algorithm: "rabbit_password_hashing_sha256", tags: [] });
  return {
    users: [...Object.entries(users), ...Object.entries(noAccess)].map(user),
    vhosts: [{ name: "/" }],
    permissions: Object.keys(users).map((u) => ({ user: u, vhost: "/", configure: ".*", write: ".*", read: ".*" })),
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}

async function waitListening(port: number, ms: number, why: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await canConnect(port))) {
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 20));
  }
}
