// Where firmware images live: the list `xsmq build` records (the project's build/xsmq-images.json) and IMAGE arguments.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { CliError } from "./cli-error.ts";
import type { FlashImage } from "./flasher.ts";
import { requireProject, type Project } from "./project.ts";

export interface RecordedImage { address: number; path: string }
export interface BuildRecord { platform: string; images: RecordedImage[] }

/** Where a project's builds go: its build/ folder, or $XSMQ_BUILD_DIR. */
export function buildDir(project: Project, env = process.env): string {
  return env.XSMQ_BUILD_DIR ?? join(project.root, "build");
}

export function buildRecordPath(dir: string): string {
  return join(dir, "xsmq-images.json");
}

export function writeBuildRecord(record: BuildRecord, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(buildRecordPath(dir), JSON.stringify(record, null, 2) + "\n");
}

export function readBuildRecord(dir: string): BuildRecord | undefined {
  const path = buildRecordPath(dir);
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as BuildRecord) : undefined;
}

/** "0x1000:main.bin" or "main.bin" (at 0x0). */
export function parseImageArg(arg: string): RecordedImage {
  const m = /^(0x[0-9a-f]+|\d+)[:=](.+)$/i.exec(arg);
  if (!m) return { address: 0, path: arg };
  return { address: Number(m[1]), path: m[2] };
}

export function loadImages(list: RecordedImage[]): FlashImage[] {
  return list.map(({ address, path }) => {
    if (!existsSync(path)) throw new CliError(`no such image file: ${path}`, "Build first (xsmq build) or check the path.");
    if (address % 4 !== 0) throw new CliError(`image address 0x${address.toString(16)} is not 4-byte aligned`);
    return { address, data: new Uint8Array(readFileSync(path)), name: basename(path) };
  });
}

/** The images of the project's last build, or a clear error saying how to get some. */
export function imagesFromBuild(dir = buildDir(requireProject())): FlashImage[] {
  const record = readBuildRecord(dir);
  if (!record || record.images.length === 0) {
    throw new CliError("no firmware image to flash",
      "Build one first: xsmq build --platform esp8266\nor name the image(s): xsmq flash --port /dev/ttyUSB0 0x0:firmware.bin");
  }
  return loadImages(record.images);
}
