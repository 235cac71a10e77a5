// `xsmq sim` (and `npm start`): runs the example firmware on simulated boards against the local Adafruit IO
// emulator or a real broker; a live view on a terminal, timestamped log lines otherwise, a JSON summary on request.
import { parseArgs } from "node:util";
import { startSimulation, type Simulation } from "../sim/run/runner.ts";
import { SimLog } from "../sim/run/log.ts";
import { SimView } from "../sim/run/view.ts";
import { fleetLine, type Summary } from "../sim/run/summary.ts";
import { CliError } from "./cli-error.ts";

export const help = `usage: xsmq sim [options]

Runs the example app (src/app) on a simulated ESP8266 that joins a virtual Wi-Fi network and talks MQTT to a
local Adafruit-IO-compatible broker, or to a real broker. On a terminal it shows a live view where keys inject
faults (drop Wi-Fi, kill TCP, blackhole, latency, restart the broker) and play the dashboard (onoff, slider);
without a terminal it prints timestamped log lines.

options:
  --duration SECONDS   stop cleanly after this long (default: run until q / Ctrl-C)
  --json               print one JSON summary at the end (log lines then go to stderr)
  --devices N          run a fleet of N devices, each with its own client id, Wi-Fi and state (default 1)
  --interval SECONDS   time between sensor readings (default 3; Adafruit IO's free plan allows 30/min)
  --broker URL         mqtt://host:port of a real broker (e.g. mqtt://io.adafruit.com:1883); default: local
  --username NAME      broker user name / Adafruit IO user (default $AIO_USERNAME with --broker)
  --key KEY            broker password / Adafruit IO key (default $AIO_KEY with --broker)
  --board NAME         TCP stack to simulate: esp8266 (default), esp32, host
  --latency MS         one-way network latency to add (default 0)
  --plain              log lines even on a terminal
  -h, --help           this text`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: "string" }, json: { type: "boolean" }, devices: { type: "string" }, interval: { type: "string" },
      broker: { type: "string" }, username: { type: "string" }, key: { type: "string" }, board: { type: "string" },
      latency: { type: "string" }, plain: { type: "boolean" },
    },
  });
  const duration = numberOption("duration", values.duration, 0);
  const devices = numberOption("devices", values.devices, 1);
  const interval = numberOption("interval", values.interval, 3);
  const latency = numberOption("latency", values.latency, 0);
  if (!Number.isInteger(devices) || devices < 1) throw new CliError("--devices must be a whole number >= 1", "e.g. --devices 100", 2);
  if (!(interval > 0)) throw new CliError("--interval must be > 0 seconds", undefined, 2);
  const board = values.board ?? "esp8266";
  if (board !== "esp8266" && board !== "esp32" && board !== "host") throw new CliError(`--board ${board}: expected esp8266, esp32 or host`, undefined, 2);
  const broker = values.broker;
  if (broker !== undefined && !/^mqtt:\/\/[^/:]+(:\d+)?\/?$/.test(broker)) throw new CliError(`--broker ${broker}: expected mqtt://host:port`, undefined, 2);
  const username = values.username ?? (broker ? process.env.AIO_USERNAME || undefined : undefined);
  const key = values.key ?? (broker ? process.env.AIO_KEY || undefined : undefined);

  const useView = !values.plain && process.stdout.isTTY === true && process.stdin.isTTY === true;
  // With --json, stdout carries only the summary.
  const out = (line: string) => (values.json ? process.stderr : process.stdout).write(line + "\n");
  let log: SimLog | undefined;
  let sim: Simulation;
  try {
    sim = await startSimulation({
      devices, broker, username, key, interval: interval * 1000, board, latencyMs: latency,
      onTrace: (device, line) => log?.trace(device, line),
    });
  } catch (e) {
    throw new CliError(`cannot start the simulation: ${(e as Error).message}`,
      broker ? "check --broker, --username and --key (or AIO_USERNAME / AIO_KEY)" : undefined);
  }

  const title = `${devices === 1 ? "" : `${devices} x `}${board === "host" ? "host" : board.toUpperCase()} running ${sim.appSource}`;
  let view: SimView | undefined;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => { finish = resolve; });
  if (useView) {
    view = new SimView(sim, { input: process.stdin, output: process.stdout, onQuit: () => finish(), title });
    view.start();
  } else {
    log = new SimLog(sim, out);
    log.line(`xsmq sim: ${title}`);
    log.line(`broker ${sim.brokerUrl}${sim.broker ? " (local Adafruit IO emulator)" : ""}, user ${sim.devices[0].username}${devices > 1 ? " ..." : ""}, reading every ${interval} s`);
    log.start();
  }
  const onSignal = () => finish();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const timer = duration > 0 ? setTimeout(finish, duration * 1000) : undefined;

  await finished;
  if (timer) clearTimeout(timer);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  view?.stop();
  const summary = sim.summary();
  log?.stop();
  await sim.stop();
  if (values.json) process.stdout.write(JSON.stringify(jsonSummary(summary)) + "\n");
  else out(`summary: ${fleetLine(summary)}, received ${summary.received}`);
  return 0;
}

/** The final JSON: the issue's four numbers first, then the rest of the summary. */
function jsonSummary(s: Summary) {
  const { published, received, reconnects, errors, ...rest } = s;
  return { published, received, reconnects, errors, ...rest };
}

function numberOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new CliError(`--${name} ${text}: expected a number >= 0`, undefined, 2);
  return n;
}
