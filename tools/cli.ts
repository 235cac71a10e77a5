// `xsmq`: dispatches to one module per command, loaded only when that command runs.
// Each command module exports `help` (its usage text) and `run(argv)` returning an exit code.
import { CliError, formatCliError } from "./cli-error.ts";
import { packageVersion } from "./project.ts";

export interface Command {
  help: string;
  run(argv: string[]): Promise<number>;
}

export const commands: Record<string, () => Promise<Command>> = {
  init: () => import("./init.ts"),
  build: () => import("./build.ts"),
  flash: () => import("./flash.ts"),
  monitor: () => import("./monitor.ts"),
  size: () => import("./size.ts"),
  doctor: () => import("./doctor.ts"),
  sim: () => import("./sim.ts"),
  run: () => import("./run.ts"),
};

const summaries: Record<string, string> = {
  init: "make a new firmware project (xsmq init my-sensor)",
  build: "type-check the project and build its firmware with the Moddable SDK",
  flash: "write the firmware to a board over a serial port",
  monitor: "show a board's serial output (Ctrl-] quits)",
  size: "bytes per module and of the bundle and firmware image",
  doctor: "check this machine's tools, SDK and serial ports",
  sim: "run the project's app on simulated boards",
  run: "build the project's app and run it on Moddable's lin runtime (no board needed)",
};

export function usage(): string {
  const names = Object.keys(commands);
  const pad = Math.max(...names.map((n) => n.length));
  return [
    "usage: xsmq <command> [options]      (xsmq <command> --help for its options)",
    "",
    "Commands work on the project in this folder (the nearest manifest.json); settings come from",
    "--config key=value, the environment or .env (WIFI_SSID, WIFI_PASSWORD, AIO_USERNAME, AIO_KEY)",
    "and xsmq.config.json.",
    "",
    "commands:",
    ...names.map((n) => `  ${n.padEnd(pad)}  ${summaries[n] ?? ""}`),
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    console.log(packageVersion);
    return 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    console.error(`xsmq: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const command = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(formatCliError(name, error));
      return error.exitCode;
    }
    // Option parsing errors from node:util are the user's too: show them with the command's help.
    const code = (error as { code?: string }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      console.error(`xsmq ${name}: ${(error as Error).message}\n\n${command.help}`);
      return 2;
    }
    throw error;
  }
}
