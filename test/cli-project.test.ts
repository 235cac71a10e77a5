// xsmq on a maker's own project: `xsmq init` and its templates, the project found from the current folder,
// settings merged from xsmq.config.json, .env, the environment and --config (secrets never printed), output
// in the project's build/, and the CLI's small promises (--version, doctor --json, a path that is no serial port).
// Projects get node_modules/xsmq as a link to this repository, as `npm install` would give them a copy.
import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { runCli } from "./support/fake-esp/run-cli.ts";
import { cleanEnv, fakeSdk, temp } from "./support/fake-sdk.ts";
import { parseDotEnv, projectSettings, loadProject } from "../tools/project.ts";

const repoRoot = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const version = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version as string;

/** Every file under `dir`, relative to it (node_modules left out). */
function files(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix)).filter((n) => n !== "node_modules").sort().flatMap((n) => {
    const rel = prefix ? `${prefix}/${n}` : n;
    return statSync(join(dir, rel)).isDirectory() ? files(dir, rel) : [rel];
  });
}

/** `xsmq init` into a new folder named `name`, with node_modules/xsmq linked to this repository. */
async function project(name: string, template = "adafruit-io"): Promise<string> {
  const dir = join(temp("xsmq-project-"), name);
  const r = await runCli(["init", dir, "--template", template], { env: cleanEnv({}) });
  expect(r.code, r.stderr).toBe(0);
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(repoRoot, join(dir, "node_modules", "xsmq"));
  return dir;
}

describe("xsmq --version", () => {
  it("prints the package's version", async () => {
    for (const flag of ["--version", "-v"]) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });
});

describe("xsmq init", () => {
  it("makes a project: package.json on xsmq, a manifest on node_modules/xsmq's manifests, the app, a test, README, .gitignore", async () => {
    const dir = await project("my-sensor");
    expect(files(dir)).toEqual([".env.example", ".gitignore", "README.md", "manifest.json", "package.json", "src/main.ts",
      "test/main.test.ts", "test/until.ts", "tsconfig.json", "vitest.config.ts", "xsmq.config.json"]);
    for (const f of files(dir)) expect(readFileSync(join(dir, f), "utf8"), f).not.toContain("{{");
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    expect(pkg).toMatchObject({ name: "my-sensor", private: true, type: "module", dependencies: { xsmq: `^${version}` } });
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(["typescript", "vitest"]);
    expect(pkg.scripts).toMatchObject({ start: "xsmq sim", test: "tsc -p tsconfig.json && vitest run" });
    // Every manifest it includes or module it names exists once node_modules/xsmq is there.
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    const local = [...manifest.include, ...Object.values(manifest.modules) as string[]].filter((p: string) => p.startsWith("./node_modules/"));
    expect(local.length).toBeGreaterThan(3);
    for (const p of local) expect(existsSync(join(dir, p)) || existsSync(join(dir, `${p}.ts`)), p).toBe(true);
    expect(manifest.modules["*"]).toBe("./src/*");
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toMatch(/^\.env$/m);
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    expect(readme).toContain("A0");
    expect(readme).toContain("GPIO 2");
    expect(readme).toContain("npx xsmq sim");
  });

  it("type-checks both templates against xsmq's XS typings and modules (tsconfig extends xsmq/tsconfig.app.json)", async () => {
    for (const template of ["adafruit-io", "mqtt"]) {
      const dir = await project(`t-${template}`, template);
      const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
      const { execFileSync } = await import("node:child_process");
      const listed = execFileSync(process.execPath, [tsc, "-p", "tsconfig.json", "--listFilesOnly"], { cwd: dir, encoding: "utf8" });
      expect(listed).toContain("xsmq/types/timer.d.ts");
      expect(listed).toContain(join(repoRoot, "src", "wifi", "manager.ts")); // "wifi/manager", through the link
      // A type error in the app fails it: the check is real.
      writeFileSync(join(dir, "src", "bad.ts"), 'import Timer from "timer";\nexport const t: string = Timer.set(() => {}, 1);\n');
      let errors = "";
      try {
        execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: dir, encoding: "utf8", stdio: "pipe" });
      } catch (e) {
        errors = String((e as { stdout?: string }).stdout);
      }
      expect(errors).toMatch(/src\/bad\.ts\(2,\d+\): error TS2322/);
    }
  }, 180_000); // four tsc runs: ~20 s on a quiet 2-core machine, several times that on a loaded one

  it("into the current folder after `npm i xsmq`: keeps package.json's fields and the xsmq it installed", async () => {
    const dir = temp("xsmq-here-");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ dependencies: { xsmq: "file:../xsmq-0.1.0.tgz" } }));
    mkdirSync(join(dir, "node_modules"));
    const r = await runCli(["init"], { cwd: dir, env: cleanEnv({}) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/^ {2}cd /m);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    expect(pkg.dependencies.xsmq).toBe("file:../xsmq-0.1.0.tgz");
    expect(pkg.scripts.start).toBe("xsmq sim");
  });

  it("refuses a folder that holds other files, and an unknown template", async () => {
    const dir = temp("xsmq-full-");
    writeFileSync(join(dir, "notes.txt"), "mine");
    const r = await runCli(["init", dir], { env: cleanEnv({}) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dir} is not empty (notes.txt)`);
    expect(readdirSync(dir)).toEqual(["notes.txt"]);
    const t = await runCli(["init", join(dir, "x"), "--template", "lora"]);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('unknown template "lora"');
  });
});

describe("settings", () => {
  it("later sources win: xsmq.config.json, .env, the environment, --config, the dedicated options", () => {
    const dir = temp("xsmq-settings-");
    writeFileSync(join(dir, "manifest.json"), "{}");
    writeFileSync(join(dir, "xsmq.config.json"), JSON.stringify({ config: { username: "file", interval: 10000, led: "2" } }));
    writeFileSync(join(dir, ".env"), "# secrets\nexport AIO_KEY='from env file'\nWIFI_SSID=home # the router\nAIO_USERNAME=dotenv\n");
    const p = loadProject(dir);
    expect(projectSettings(p, {}, {})).toEqual({ username: "dotenv", interval: "10000", led: "2", key: "from env file", ssid: "home" });
    expect(projectSettings(p, { config: ["led=4", "interval=2000"], flags: { key: "flag", ssid: undefined } }, { AIO_USERNAME: "shell", AIO_KEY: "" }))
      .toEqual({ username: "shell", interval: "2000", led: "4", key: "flag", ssid: "home" });
    expect(parseDotEnv('A="x \\"y\\""\nB=1=2\n  # c=3\n')).toEqual({ A: 'x "y"', B: "1=2" });
  });
});

describe("xsmq build on a project", () => {
  it("builds from the project's folder into its build/, with its settings as config and the key masked", async () => {
    const dir = await project("porch-light");
    writeFileSync(join(dir, ".env"), "AIO_KEY=aio_sekrit_123\nWIFI_PASSWORD=wifi-pass-456\n");
    writeFileSync(join(dir, "xsmq.config.json"), JSON.stringify({ platform: "lin", config: { interval: "10000" } }));
    const sdk = fakeSdk();
    const r = await runCli(["build", "--config", "led=4", "--config", "interval=2000"],
      { cwd: join(dir, "src"), env: cleanEnv({ MODDABLE: sdk, AIO_USERNAME: "maker", WIFI_SSID: "Home Net" }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Type-checking (tsc -p tsconfig.json)...");
    expect(readFileSync(join(sdk, "cwd.txt"), "utf8").trim()).toBe(dir);
    const args = readFileSync(join(sdk, "args.txt"), "utf8").trimEnd().split("\n");
    expect(args.slice(0, 8)).toEqual(["-m", "-p", "lin", "-d", "-t", "build", "-o", join(dir, "build", "moddable")]);
    expect(args.slice(8).sort()).toEqual(["interval=2000", "key=aio_sekrit_123", "led=4", "password=wifi-pass-456", "ssid=Home Net", "username=maker"]);
    expect(r.stdout + r.stderr).not.toContain("sekrit");
    expect(r.stdout + r.stderr).not.toContain("wifi-pass");
    expect(r.stdout).toContain("key=***");
    expect(r.stdout).toContain(`Built the lin app: ${join(dir, "build", "moddable", "bin", "lin", "mc", "debug", "porch-light", "mc.so")}`);
    expect(existsSync(join(dir, "build", "xsmq-images.json"))).toBe(true);
  });

  it("outside a project: says there is none and how to make one", async () => {
    const r = await runCli(["build", "--skip-typecheck"], { cwd: temp("xsmq-empty-"), env: cleanEnv({ MODDABLE: fakeSdk() }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no Moddable project here \(no manifest\.json in .* or above\)/);
    expect(r.stderr).toContain("npx xsmq init my-sensor");
  });
});

describe("xsmq sim on a project", () => {
  it("runs the project's own app (mqtt template) against the local plain broker its xsmq.config.json asks for", async () => {
    const dir = await project("balcony", "mqtt");
    const r = await runCli(["sim", "--duration", "5", "--json"], { cwd: dir, env: cleanEnv({}) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("xsmq sim: ESP8266 running src/main.ts");
    expect(r.stderr).toContain("(local MQTT broker)");
    expect(r.stderr).toContain("esp8266 | onoff: OFF"); // the dashboard's retained balcony/onoff
    const s = JSON.parse(r.stdout);
    expect(s.published).toBeGreaterThan(0);
    expect(s.received).toBeGreaterThan(0);
    expect(s.errors).toBe(0);
  });

  it("--wrong-key: the local emulator refuses the device's key with CONNACK 5 and the app's back-off shows", async () => {
    const dir = await project("garage");
    const r = await runCli(["sim", "--duration", "4", "--wrong-key"], { cwd: dir, env: cleanEnv({ AIO_KEY: "aio_right" }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/esp8266 \| app: Adafruit IO refused the key for user xsmq-demo: check AIO_KEY \(CONNACK 5: not authorized\); next login attempt in \d+ s/);
    expect(r.stdout).toMatch(/summary: 0\/1 connected, .*errors [1-9]/);
    expect(r.stdout).not.toContain("aio_right");
  });
});

describe("the CLI's small promises", () => {
  it("doctor --json: one JSON object with every check and the counts", async () => {
    const r = await runCli(["doctor", "--json"], { env: cleanEnv({}) });
    const report = JSON.parse(r.stdout);
    expect(report.checks.find((c: { label: string }) => c.label === "Node")).toMatchObject({ status: "OK" });
    expect(report.checks.find((c: { label: string }) => c.label === "Moddable SDK")).toMatchObject({ status: "WARN" });
    expect(report.failed).toBe(report.checks.filter((c: { status: string }) => c.status === "FAIL").length);
    expect(report.warnings).toBe(report.checks.filter((c: { status: string }) => c.status === "WARN").length);
    expect(r.code).toBe(report.failed ? 1 : 0);
  });

  it("flash --port /dev/null: the path is not a serial port, and where a board's port is", async () => {
    const image = join(temp("xsmq-img-"), "app.bin");
    writeFileSync(image, Buffer.alloc(64));
    const r = await runCli(["flash", "--port", "/dev/null", `0x0:${image}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("xsmq flash: /dev/null is not a serial port");
    expect(r.stderr).toContain("/dev/ttyUSB*");
  });

  it("flash and monitor take the port from xsmq.config.json", async () => {
    const dir = await project("shed");
    writeFileSync(join(dir, "xsmq.config.json"), JSON.stringify({ port: "/dev/ttyXSMQ-none" }));
    const image = join(dir, "app.bin");
    writeFileSync(image, Buffer.alloc(64));
    for (const args of [["flash", `0x0:${relative(dir, image)}`], ["monitor"]]) {
      const r = await runCli(args, { cwd: dirname(image) });
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr).toContain("no such serial port: /dev/ttyXSMQ-none");
    }
  });

  it("npm start -s -- --json (the README's form): stdout is the JSON summary alone, without npm's banner", async () => {
    const { spawn } = await import("node:child_process");
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn("npm", ["start", "-s", "--", "--duration", "2", "--json"], { cwd: repoRoot, env: cleanEnv({}), stdio: ["ignore", "pipe", "ignore"] });
      let stdout = "";
      p.stdout.on("data", (d) => { stdout += d; });
      p.on("close", (code) => resolve({ code, stdout }));
    });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toHaveProperty("published");
  });
});
