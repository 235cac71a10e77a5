// Writes firmware images to an ESP8266/ESP32 with esptool-js over a NodeSerialDevice: detect the chip,
// check the images fit its flash, write them compressed, verify each by MD5, then start the new firmware.
import { createHash } from "node:crypto";
import { ESPLoader, Transport } from "esptool-js";
import { CliError } from "./cli-error.ts";
import { createProgress } from "./progress.ts";
import { NodeSerialDevice, pulseReset } from "./serial/node-serial-device.ts";

export interface FlashImage { address: number; data: Uint8Array; name: string }

export interface FlashOptions {
  port: string;
  images: FlashImage[];
  /** Baud rate for the transfer; the connection starts at the ROM's 115200. */
  baud?: number;
  chip?: "auto" | "esp8266" | "esp32";
  /** Use DTR/RTS to enter the bootloader and to restart afterwards. False: the board is put in download mode by hand. */
  reset?: boolean;
  log?: (line: string) => void;
  /** esptool-js's own output, line by line (for --verbose). */
  trace?: (line: string) => void;
}

export interface FlashResult { chip: string; description: string; mac?: string; flashSize: string; written: { address: number; bytes: number; md5: string }[]; restarted: "reset-pin" | "soft" | "no" }

const chipNames: Record<string, string> = { esp8266: "ESP8266", esp32: "ESP32" };

export async function flashImages(options: FlashOptions): Promise<FlashResult> {
  const log = options.log ?? ((line) => console.log(line));
  const reset = options.reset ?? true;
  const device = new NodeSerialDevice(options.port, {
    controlLines: reset,
    onNoControlLines: (e) => log(`warning: ${options.port} has no DTR/RTS lines (${e.message}); the board must be put in download mode by hand`),
  });
  const loaderLines: string[] = [];
  const terminal = {
    clean() {},
    writeLine(line: string) { loaderLines.push(line); options.trace?.(line); },
    write(text: string) { loaderLines.push(text); options.trace?.(text); },
  };
  const transport = new Transport(device as unknown as ConstructorParameters<typeof Transport>[0], false);
  // esptool-js prints some traces with console.log even when tracing is off; keep them for --verbose.
  transport.trace = (message: string) => options.trace?.(message);
  const loader = new ESPLoader({ transport, baudrate: options.baud ?? 115200, romBaudrate: 115200, terminal });
  let connected = false;
  try {
    log(`Connecting to ${options.port}...`);
    let description: string;
    try {
      description = await loader.main(reset ? "default_reset" : "no_reset");
      connected = true;
    } catch (error) {
      if (error instanceof CliError) throw error;
      connected = device.isOpen;
      const message = (error as Error).message ?? String(error);
      if (/Failed to connect|stream stopped|Invalid head of packet|No serial data/i.test(message)) {
        throw new CliError(`no answer from the bootloader on ${options.port}`,
          "Put the board in download mode: hold BOOT (FLASH, IO0), tap RESET (EN), release BOOT, and run the command again.\n" +
          "Also check that no other program (monitor, xsbug) has the port open, and the cable carries data.");
      }
      throw new CliError(`talking to the bootloader failed: ${message}`, "Try again with --baud 115200; check the cable and power.");
    }
    const chip = loader.chip.CHIP_NAME;
    const mac = loaderLines.find((l) => l.startsWith("MAC: "))?.slice(5);
    log(`Chip: ${description}${mac ? `, MAC ${mac}` : ""}`);
    const wanted = options.chip && options.chip !== "auto" ? chipNames[options.chip] : undefined;
    if (wanted && wanted !== chip) {
      throw new CliError(`wrong chip: the board on ${options.port} is an ${chip} (${description}), not an ${wanted}`,
        `Flash a build for this board (xsmq build --platform ${chip === "ESP8266" ? "esp8266" : "esp32"}) or pass --chip auto.`);
    }

    const flashSize = (await loader.detectFlashSize()) ?? "keep";
    if (flashSize !== "keep") {
      const capacity = loader.flashSizeBytes(flashSize as Parameters<typeof loader.flashSizeBytes>[0]);
      for (const image of options.images) {
        const end = image.address + image.data.length;
        if (end > capacity) {
          throw new CliError(`image too big for the flash: ${image.name} is ${image.data.length} bytes at 0x${image.address.toString(16)} and would end at 0x${end.toString(16)}, but the board has ${flashSize} (0x${capacity.toString(16)} bytes)`,
            "Use a board with more flash (a Moddable ESP8266 build wants 4 MB, e.g. NodeMCU or Feather HUZZAH), or check the image's address.");
        }
      }
    }
    log(`Flash: ${flashSize}`);

    const written: FlashResult["written"] = [];
    for (const image of options.images) {
      const progress = createProgress(`Writing ${image.name} at 0x${image.address.toString(16)}`, image.data.length);
      let md5 = "";
      try {
        await loader.writeFlash({
          fileArray: [{ address: image.address, data: image.data }],
          flashSize: "keep", flashMode: "keep", flashFreq: "keep",
          eraseAll: false, compress: true,
          reportProgress: (_i, done, total) => progress.update(done, total),
          calculateMD5Hash: (bytes) => (md5 = createHash("md5").update(bytes).digest("hex")),
        });
      } catch (error) {
        progress.finish();
        const message = (error as Error).message ?? String(error);
        if (/MD5 of file does not match/i.test(message)) {
          throw new CliError(`verification failed: the flash at 0x${image.address.toString(16)} does not hold ${image.name} (MD5 differs)`,
            "Flash again, at a lower speed (--baud 115200); if it keeps failing the flash chip or the power supply may be bad.");
        }
        throw new CliError(`writing ${image.name} failed: ${message}`, "Flash again with --baud 115200; check the cable and power.");
      }
      progress.finish();
      log(`Wrote ${image.data.length} bytes at 0x${image.address.toString(16)}, MD5 verified (${md5})`);
      written.push({ address: image.address, bytes: image.data.length, md5 });
    }

    let restarted: FlashResult["restarted"] = "no";
    if (reset && (await pulseReset(device))) {
      restarted = "reset-pin";
      log("Restarted the board (RTS reset).");
    } else if (chip === "ESP8266") {
      await loader.after("soft_reset"); // the stub jumps into the new firmware
      restarted = "soft";
      log("Started the new firmware.");
    } else {
      log("Press RESET (EN) on the board to start the new firmware.");
    }
    return { chip, description, mac, flashSize, written, restarted };
  } finally {
    if (connected || device.isOpen) await transport.disconnect().catch(() => device.close());
  }
}
