// `xsmq doctor`: checks what xsmq needs on this machine and says what to do about what is missing.
// Exit code 0 unless a check FAILs (WARN is for things only some commands need).
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { SerialPort } from "serialport";
import { findMcconfig, findOnPath, findSdk, findToolchain, findTypeScript } from "./moddable.ts";
import { parseOptions } from "./options.ts";

export const help = `usage: xsmq doctor [--json]

Checks Node, the Moddable SDK ($MODDABLE, mcconfig), the TypeScript mcconfig gets, what \`xsmq run --platform lin\`
compiles its loader with, the ESP8266 and ESP32 toolchains, serial ports and
your permission to use them, and mosquitto/socat for the tests. Prints OK, WARN or FAIL with what to do.
Exit code 1 when a check FAILs.

  --json   print {"checks": [{status, label, detail, fix?}...], "failed": N, "warnings": N} instead`;

type Status = "OK" | "WARN" | "FAIL";
export interface Check { status: Status; label: string; detail: string; fix?: string }

/** USB serial ports, from serialport's list, or from /dev when that needs udevadm and it is missing. */
async function listBoardPorts(): Promise<{ path: string; manufacturer?: string }[]> {
  const likely = (path: string) => /ttyUSB|ttyACM|usbserial|usbmodem|SLAB|wchusb|COM\d/i.test(path);
  try {
    return (await SerialPort.list()).filter((p) => likely(p.path));
  } catch {
    try { return readdirSync("/dev").map((n) => ({ path: `/dev/${n}` })).filter((p) => likely(p.path)); } catch { return []; }
  }
}

async function checks(): Promise<Check[]> {
  const out: Check[] = [];
  const [major, minor] = process.versions.node.split(".").map(Number);
  out.push(major > 20 || (major === 20 && minor >= 9)
    ? { status: "OK", label: "Node", detail: process.version }
    : { status: "FAIL", label: "Node", detail: `${process.version} is too old`, fix: "Install Node 20.9 or newer (https://nodejs.org)." });

  const sdk = findSdk();
  if (sdk.ok) {
    out.push({ status: "OK", label: "Moddable SDK", detail: sdk.path });
    const mc = findMcconfig(sdk.path);
    out.push(mc.ok ? { status: "OK", label: "mcconfig", detail: mc.path } : { status: "WARN", label: "mcconfig", detail: `missing ${mc.what}`, fix: mc.fix });
  } else {
    out.push({ status: "WARN", label: "Moddable SDK", detail: `missing ${sdk.what}; needed by xsmq build`, fix: sdk.fix });
  }
  const ts = findTypeScript();
  out.push(ts.ok ? { status: "OK", label: "TypeScript (for mcconfig)", detail: `${ts.version} (${ts.path})` }
    : { status: "FAIL", label: "TypeScript (for mcconfig)", detail: `missing ${ts.what}`, fix: ts.fix });
  const cc = findOnPath("cc") ?? findOnPath("gcc");
  const glib = spawnSync("pkg-config", ["--exists", "glib-2.0"]).status === 0;
  out.push(cc && glib ? { status: "OK", label: "lin runtime (xsmq run)", detail: `${cc}, GLib headers` }
    : { status: "WARN", label: "lin runtime (xsmq run)", detail: cc ? "no GLib headers (pkg-config glib-2.0)" : "no C compiler",
      fix: "sudo apt-get install build-essential pkg-config libgtk-3-dev   (Moddable's Linux set-up)" });
  for (const target of ["esp8266", "esp32"] as const) {
    const t = findToolchain(target);
    out.push(t.ok ? { status: "OK", label: `${target} toolchain`, detail: t.path } : { status: "WARN", label: `${target} toolchain`, detail: `missing ${t.what}`, fix: t.fix });
  }

  const ports = await listBoardPorts();
  if (ports.length === 0) out.push({ status: "WARN", label: "serial ports", detail: "no USB serial port found", fix: "Plug in the board with a data cable; CH340/CP210x boards may need their USB-serial driver." });
  for (const port of ports) {
    try {
      accessSync(port.path, constants.R_OK | constants.W_OK);
      out.push({ status: "OK", label: "serial port", detail: `${port.path}${port.manufacturer ? ` (${port.manufacturer})` : ""}` });
    } catch {
      out.push({ status: "WARN", label: "serial port", detail: `${port.path}: no permission to open it`, fix: "sudo usermod -aG dialout $USER   then log out and in again" });
    }
  }

  const mosquitto = findOnPath("mosquitto") ?? ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"].find((p) => existsSync(p));
  out.push(mosquitto ? { status: "OK", label: "mosquitto (tests)", detail: mosquitto } : { status: "WARN", label: "mosquitto (tests)", detail: "not installed; npm test needs it", fix: "sudo apt-get install mosquitto" });
  const socat = findOnPath("socat");
  out.push(socat ? { status: "OK", label: "socat (tests)", detail: socat } : { status: "WARN", label: "socat (tests)", detail: "not installed; the flash and monitor tests need it", fix: "sudo apt-get install socat" });
  const git = spawnSync("git", ["--version"], { encoding: "utf8" });
  if (git.status !== 0) out.push({ status: "WARN", label: "git", detail: "not found; needed to install the Moddable SDK", fix: "sudo apt-get install git" });
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, { json: { type: "boolean", default: false } });
  const results = await checks();
  const failed = results.filter((c) => c.status === "FAIL").length;
  const warned = results.filter((c) => c.status === "WARN").length;
  if (values.json) {
    console.log(JSON.stringify({ checks: results, failed, warnings: warned }, null, 2));
    return failed ? 1 : 0;
  }
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const paint: Record<Status, string> = { OK: "32", WARN: "33", FAIL: "1;31" };
  for (const c of results) {
    const status = color ? `\x1b[${paint[c.status]}m${c.status.padEnd(4)}\x1b[0m` : c.status.padEnd(4);
    console.log(`${status} ${c.label}: ${c.detail}`);
    if (c.fix && c.status !== "OK") for (const line of c.fix.split("\n")) console.log(`     ${line}`);
  }
  console.log(failed ? `${failed} problem(s) to fix.` : warned ? `Nothing blocking; ${warned} warning(s).` : "All good.");
  return failed ? 1 : 0;
}
