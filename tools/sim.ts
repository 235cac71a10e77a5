// `xsmq sim` (and `npm start`): runs the project's app (or, outside a project, the example app) on simulated
// boards against a local broker (the Adafruit IO emulator or a plain one) or a real one; a live view on a
// terminal, timestamped log lines otherwise, a JSON summary on request.
import { relative } from "node:path";
import { startSimulation, type Simulation } from "../sim/run/runner.ts";
import { SimLog } from "../sim/run/log.ts";
import { chooseLocalBroker } from "../sim/run/local-broker.ts";
import { SimView } from "../sim/run/view.ts";
import { startWebDashboard, type WebDashboard } from "../sim/web/server.ts";
import { fleetLine, type Summary } from "../sim/run/summary.ts";
import { CliError } from "./cli-error.ts";
import { brokerOption, durationRule, numberOption, parseOptions } from "./options.ts";
import { findProject, manifestConfig, projectSettings } from "./project.ts";

export const help = `usage: xsmq sim [options]

Runs the project's app (its main module: src/main.ts, or "main" in xsmq.config.json) on a simulated ESP8266
that joins a virtual Wi-Fi network and talks MQTT to a local broker (an Adafruit IO emulator, or a plain MQTT
broker with "localBroker": "mqtt" in xsmq.config.json: mosquitto when the app's "protocol" setting is 5, as
MQTT 5.0 needs), or to a real broker. Outside a project it runs xsmq's
example app. The app gets the project's settings (manifest.json's config, xsmq.config.json, .env, --config).
On a terminal it shows a live view where keys inject faults (drop Wi-Fi, kill TCP, blackhole, latency, restart
the broker) and play the dashboard (onoff, slider); without a terminal it prints timestamped log lines.

options:
  --duration SECONDS   stop cleanly after this long (> 0; default: run until q / Ctrl-C)
  --json               print one JSON summary at the end (log lines then go to stderr)
  --devices N          run a fleet of N devices, each with its own client id, Wi-Fi and state (default 1)
  --interval SECONDS   time between sensor readings (default: config interval, else 3; Adafruit IO's free
                       plan allows 30/min)
  --broker URL         mqtt:// or mqtts:// (TLS) host:port of a real broker (e.g. mqtts://io.adafruit.com:8883); default: local
  --local-broker KIND  aio (Adafruit IO emulator, MQTT 3.1.1 as Adafruit IO; default), mqtt (plain, in-process,
                       MQTT 3.1.1; default with "localBroker": "mqtt") or mosquitto (a real mosquitto, MQTT 5.0
                       and 3.1.1: apt-get install mosquitto; default with "localBroker": "mqtt" and protocol 5)
  --username NAME      broker user name / Adafruit IO user (default: $AIO_USERNAME, .env, config username)
  --key KEY            broker password / Adafruit IO key (default: $AIO_KEY, .env; local: generated)
  --wrong-key          the device logs in with a key the local broker refuses (CONNACK 5): see what the app
                       does with a wrong AIO_KEY
  --config K=V         a config setting for the app (repeat for more)
  --board NAME         TCP stack to simulate: esp8266 (default), esp32, host
  --latency MS         one-way network latency to add (default 0)
  --plain              log lines even on a terminal
  --web [PORT]         serve a live dashboard on http://127.0.0.1:PORT/ (default 8266, or a free port if it is
                       taken; 0: any free port) with the Adafruit IO HTTP API; opens nothing by itself
  -h, --help           this text`;

export async function run(argv: string[]): Promise<number> {
  // --web takes an optional port: bare, it reads as --web= (the default port).
  const args = argv.map((a, i) => (a === "--web" && !/^\d+$/.test(argv[i + 1] ?? "") ? "--web=" : a));
  const { values } = parseOptions(args, {
    duration: { type: "string" }, json: { type: "boolean" }, devices: { type: "string" }, interval: { type: "string" },
    broker: { type: "string" }, "local-broker": { type: "string" }, username: { type: "string" }, key: { type: "string" },
    "wrong-key": { type: "boolean" }, config: { type: "string", multiple: true }, board: { type: "string" },
    latency: { type: "string" }, plain: { type: "boolean" }, web: { type: "string" },
  });
  const project = findProject();
  const config = { ...manifestConfig(project), ...projectSettings(project, { config: values.config, flags: { username: values.username, key: values.key } }) };
  const duration = numberOption("duration", values.duration, undefined, durationRule);
  const devices = numberOption("devices", values.devices, 1, { min: 1, integer: true, unit: "devices", hint: "e.g. --devices 100" });
  const interval = numberOption("interval", values.interval, Number(config.interval || 3000) / 1000, { above: true, unit: "seconds" });
  const latency = numberOption("latency", values.latency, 0, { unit: "milliseconds" });
  const board = values.board ?? "esp8266";
  if (board !== "esp8266" && board !== "esp32" && board !== "host") throw new CliError(`--board ${board}: expected esp8266, esp32 or host`, undefined, 2);
  const broker = brokerOption(values.broker)?.href;
  const localBroker = chooseLocalBroker(values["local-broker"], project?.file.localBroker, config.protocol);
  if (!localBroker) throw new CliError(`--local-broker ${values["local-broker"] ?? project?.file.localBroker}: expected aio, mqtt or mosquitto`, undefined, 2);
  if (values["wrong-key"] && broker) throw new CliError("--wrong-key rehearses a refused key on the local broker", "Against a real broker, give the wrong key itself: --key ...", 2);
  // A fleet on the local broker gets one user per device (each its own rate limit) unless --username says otherwise.
  const username = values.username ?? (devices === 1 || broker ? config.username || undefined : undefined);
  const key = config.key || undefined;
  const appFile = project?.main && relative(process.cwd(), project.main);
  const webPort = values.web === undefined || values.web === "" ? DEFAULT_WEB_PORT : numberOption("web", values.web, 0, { integer: true, max: 65535, hint: "e.g. --web 8080" });

  const useView = !values.plain && process.stdout.isTTY === true && process.stdin.isTTY === true;
  // With --json, stdout carries only the summary.
  const out = (line: string) => (values.json ? process.stderr : process.stdout).write(line + "\n");
  let log: SimLog | undefined;
  let sim: Simulation;
  try {
    sim = await startSimulation({
      devices, broker, localBroker, username, key, wrongKey: values["wrong-key"], interval: interval * 1000, board, latencyMs: latency,
      ssid: config.ssid || undefined, password: config.password || undefined, config, appFile,
      onTrace: (device, line) => log?.trace(device, line),
    });
  } catch (e) {
    throw new CliError(`cannot start the simulation: ${(e as Error).message}`,
      broker ? "check --broker, --username and --key (or AIO_USERNAME / AIO_KEY)" : undefined);
  }

  const title = `${devices === 1 ? "" : `${devices} x `}${board === "host" ? "host" : board.toUpperCase()} running ${sim.appSource}`;
  let web: WebDashboard | undefined;
  if (values.web !== undefined) {
    try {
      // A key this run generated is no secret: the page shows it for the HTTP API (the user's own key never).
      const generatedKey = !key && sim.broker ? sim.broker.keyOf(sim.devices[0].username) : undefined;
      web = await startWebDashboard(sim, { port: webPort, orFreePort: values.web === "", title, generatedKey });
    } catch (e) {
      await sim.stop();
      throw new CliError(`cannot serve the dashboard: ${(e as Error).message}`, undefined, 2);
    }
  }
  let view: SimView | undefined;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => { finish = resolve; });
  if (useView) {
    view = new SimView(sim, { input: process.stdin, output: process.stdout, onQuit: () => finish(), title: web ? `${title}  ${web.url}` : title });
    view.start();
  } else {
    log = new SimLog(sim, out);
    log.line(`xsmq sim: ${title}`);
    if (!project?.main) log.line(`no app here (${project ? "no src/main.ts in the project" : "no manifest.json in this folder or above"}): running xsmq's example app`);
    log.line(`broker ${sim.brokerUrl}${sim.localBroker ? ` (${sim.localBroker})` : ""}, user ${sim.devices[0].username}${devices > 1 ? " ..." : ""}, reading every ${interval} s${values["wrong-key"] ? ", with a wrong key" : ""}`);
    if (web) log.line(`dashboard ${web.url}`);
    if (sim.monitorError) log.line(`${sim.monitorError}: readings are not tracked; what the app makes of the broker follows`);
    log.start();
  }
  const onSignal = () => finish();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const timer = duration !== undefined ? setTimeout(finish, duration * 1000) : undefined;

  await finished;
  if (timer) clearTimeout(timer);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  view?.stop();
  const summary = sim.summary();
  log?.stop();
  await web?.close();
  await sim.stop();
  if (values.json) process.stdout.write(JSON.stringify(jsonSummary(summary)) + "\n");
  else out(`summary: ${fleetLine(summary)}, received ${summary.received}`);
  return 0;
}

/** The dashboard's port when --web names none (ESP8266's digits, easy to remember). */
const DEFAULT_WEB_PORT = 8266;

/** The final JSON: the issue's four numbers first, then the rest of the summary. */
function jsonSummary(s: Summary) {
  const { published, received, reconnects, errors, ...rest } = s;
  return { published, received, reconnects, errors, ...rest };
}
