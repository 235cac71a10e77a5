// `xsmq flash`: write the firmware to a board over a serial port (see tools/flasher.ts for how).
import { CliError } from "./cli-error.ts";
import { imagesFromBuild, loadImages, parseImageArg } from "./firmware.ts";
import { flashImages } from "./flasher.ts";
import { numberOption, parseOptions } from "./options.ts";
import { findProject } from "./project.ts";

export const help = `usage: xsmq flash --port PATH [--baud N] [--chip auto|esp8266|esp32] [--no-reset] [--verbose] [IMAGE ...]

Writes firmware to an ESP8266/ESP32: detects the chip, checks the images fit its flash, writes them,
verifies each by MD5 and restarts the board.

  --port PATH    serial port of the board (/dev/ttyUSB0, /dev/ttyACM0, /dev/cu.usbserial-*); default:
                 xsmq.config.json's "port"
  --baud N       transfer speed after connecting at 115200 (default 460800; try 115200 if flashing fails)
  --chip NAME    refuse to flash anything but this chip (default auto)
  --no-reset     do not use DTR/RTS: put the board in download mode by hand (BOOT + RESET); for adapters
                 and pseudo-terminals without those lines. The new firmware is started by a soft reset.
  --verbose      also print esptool-js's own log
  IMAGE          [ADDRESS:]FILE, e.g. 0x0:firmware.bin (address defaults to 0x0).
                 Without IMAGE: the images of the project's last \`xsmq build\`.`;

/** Serial speeds esptool and the boards' USB bridges handle. */
export const baudRule = { min: 9600, max: 4_000_000, integer: true, unit: "bits per second", hint: "Use a rate such as 115200, 460800 or 921600." } as const;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    port: { type: "string", short: "p" },
    baud: { type: "string", short: "b" },
    chip: { type: "string", default: "auto" },
    "no-reset": { type: "boolean", default: false },
    verbose: { type: "boolean", short: "v", default: false },
  }, true);
  const port = values.port ?? findProject()?.file.port;
  if (!port) throw new CliError("--port is required", "Name the board's serial port, e.g. --port /dev/ttyUSB0 (`xsmq doctor` lists ports),\nor set \"port\" in xsmq.config.json.", 2);
  const baud = numberOption("baud", values.baud, 460800, baudRule);
  const chip = values.chip as string;
  if (chip !== "auto" && chip !== "esp8266" && chip !== "esp32") throw new CliError(`bad --chip ${chip}`, "Use auto, esp8266 or esp32.", 2);
  const images = positionals.length > 0 ? loadImages(positionals.map(parseImageArg)) : imagesFromBuild();
  const result = await flashImages({
    port,
    images,
    baud,
    chip,
    reset: !values["no-reset"],
    trace: values.verbose ? (line) => console.log(`  | ${line}`) : undefined,
  });
  console.log(`Done: ${result.written.length} image(s) on the ${result.chip}.`);
  return 0;
}
