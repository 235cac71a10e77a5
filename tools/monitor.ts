// `xsmq monitor`: a serial monitor for xsmq boards: timestamps every line, highlights XS exceptions and
// `trace` output, forwards typed keys, resets the board on Ctrl-R and quits on Ctrl-].
import { CliError } from "./cli-error.ts";
import { baudRule } from "./flash.ts";
import { classify, RecordSplitter, type Record_ } from "./monitor-lines.ts";
import { numberOption, parseOptions } from "./options.ts";
import { findProject } from "./project.ts";
import { NodeSerialDevice, pulseReset } from "./serial/node-serial-device.ts";

export const help = `usage: xsmq monitor --port PATH [--baud N] [--reset]

Shows the board's serial output with timestamps; XS exceptions are marked ERROR (red) and trace lines
trace (cyan). Keys you type go to the board.

  --port PATH   serial port of the board (default: xsmq.config.json's "port")
  --baud N      speed (default 115200, or xsmq.config.json's "baud"; Moddable debug builds on ESP8266 use 921600)
  --reset       reset the board when the monitor starts, to see it boot

  Ctrl-R  reset the board (needs DTR/RTS lines)      Ctrl-]  quit`;

const QUIT = 0x1d, RESET = 0x12;

function timestamp(d = new Date()): string {
  return d.toTimeString().slice(0, 8) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

export function formatRecord(record: Record_, color: boolean, now = new Date()): string | undefined {
  if (record.kind === "protocol") return undefined;
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const label = record.kind === "exception" ? paint("1;31", "ERROR") : record.kind === "trace" ? paint("36", "trace") : "     ";
  const text = record.kind === "exception" ? paint("31", record.text) : record.text;
  return `${paint("2", timestamp(now))} ${label} ${text}`;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    port: { type: "string", short: "p" },
    baud: { type: "string", short: "b" },
    reset: { type: "boolean", default: false },
  });
  const project = findProject();
  const port = values.port ?? project?.file.port;
  if (!port) throw new CliError("--port is required", "Name the board's serial port, e.g. --port /dev/ttyUSB0 (`xsmq doctor` lists ports),\nor set \"port\" in xsmq.config.json.", 2);
  const baud = numberOption("baud", values.baud, project?.file.baud ?? 115200, baudRule);
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const device = new NodeSerialDevice(port, { controlLines: true });
  await device.open({ baudRate: baud });
  // Opening a port must not reset or hold the board in the bootloader: both lines released.
  await device.setSignals({ dataTerminalReady: false, requestToSend: false });

  const splitter = new RecordSplitter((record) => {
    const line = formatRecord(classify(record), color);
    if (line !== undefined) process.stdout.write(line + "\n");
  });
  const decoder = new TextDecoder();
  console.error(`Monitoring ${port} at ${baud} baud. Ctrl-R resets the board, Ctrl-] quits.`);

  const reset = async () => {
    if (await pulseReset(device)) console.error("-- board reset --");
    else console.error(`-- cannot reset: ${port} has no DTR/RTS lines; press the board's RESET button --`);
  };
  if (values.reset) await reset();

  return await new Promise<number>((resolve) => {
    let done = false;
    const stdin = process.stdin;
    const finish = async (code: number, message?: string) => {
      if (done) return;
      done = true;
      splitter.flush();
      stdin.off("data", onKey);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      if (!stdin.isTTY) stdin.destroy(); // a piped stdin would keep the process alive
      if (message) console.error(message);
      await device.close();
      resolve(code);
    };
    const onKey = (chunk: Buffer) => {
      const quit = chunk.indexOf(QUIT);
      const keys = quit >= 0 ? chunk.subarray(0, quit) : chunk;
      let start = 0;
      for (let i = 0; i <= keys.length; i++) {
        if (i === keys.length || keys[i] === RESET) {
          if (i > start) void device.write(keys.subarray(start, i));
          if (i < keys.length) void reset();
          start = i + 1;
        }
      }
      if (quit >= 0) void finish(0);
    };
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on("data", onKey);
    stdin.on("end", () => { /* input closed (a pipe): keep monitoring until the port closes or a signal */ });
    process.once("SIGINT", () => void finish(0));
    process.once("SIGTERM", () => void finish(0));

    (async () => {
      const reader = device.readable!.getReader();
      try {
        for (;;) {
          const { value, done: ended } = await reader.read();
          if (ended || !value) break;
          splitter.push(decoder.decode(value, { stream: true }));
        }
      } catch { /* port closed */ }
      void finish(done ? 0 : 1, done ? undefined : `-- ${port} closed (board unplugged?) --`);
    })();
  });
}
