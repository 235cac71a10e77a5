// `xsmq flash` end to end: the real CLI process, esptool-js and our serial adapter, against a fake
// ESP8266 ROM bootloader on a pseudo-terminal; the fake's flash must hold exactly the image afterwards.
import { afterEach, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeBoard, type FakeBoard } from "./support/fake-esp/pty.ts";
import { runCli } from "./support/fake-esp/run-cli.ts";

let board: FakeBoard | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await board?.close();
  board = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function imageFile(bytes: Buffer, name = "firmware.bin"): string {
  const dir = mkdtempSync(join(tmpdir(), "xsmq-flash-"));
  dirs.push(dir);
  chmodSync(dir, 0o755);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Runs the CLI as root without the capabilities that let root open any file (util-linux's setpriv). */
function withoutRootFileAccess(): { prefix: string[] } {
  const setpriv = ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv"].find((p) => existsSync(p));
  if (!setpriv) throw new Error("running as root, this test needs setpriv (util-linux) to drop CAP_DAC_OVERRIDE: apt-get install util-linux");
  return { prefix: [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"] };
}

describe("xsmq flash against a fake ESP8266 bootloader", () => {
  it("writes two images at their offsets, verifies them and starts the firmware", async () => {
    board = await startFakeBoard({ appOutput: "Hello from the new firmware\n" });
    const boot = randomBytes(4096), app = randomBytes(150_001); // odd length: esptool pads to 4 bytes
    const r = await runCli(["flash", "--port", board.path, "--no-reset", "--baud", "460800", `0x0:${imageFile(boot, "boot.bin")}`, `0x1000:${imageFile(app, "main.bin")}`]);
    expect(r.stderr).not.toMatch(/error|failed/i);
    expect(r.code).toBe(0);
    expect(board.esp.read(0, boot.length)).toEqual(boot);
    expect(board.esp.read(0x1000, app.length)).toEqual(app);
    expect(board.esp.read(0x1000 + app.length, 3)).toEqual(Buffer.from([0xff, 0xff, 0xff]));
    // The path esptool-js takes on a real ESP8266: ROM sync, stub upload, baud change, compressed write, MD5.
    for (const step of ["SYNC", "READ_REG", "MEM_END", "CHANGE_BAUDRATE", "FLASH_DEFL_BEGIN", "FLASH_DEFL_DATA", "FLASH_DEFL_END", "SPI_FLASH_MD5", "RUN_USER_CODE"])
      expect(board.esp.commands).toContain(step);
    expect(board.esp.baudRate).toBe(460800);
    expect(board.esp.mode).toBe("app");
    expect(r.stdout).toContain("Chip: ESP8266EX, MAC 18:fe:34:a1:b2:c3");
    expect(r.stdout).toMatch(/Wrote 150001 bytes at 0x1000, MD5 verified/);
  });

  it("a bare IMAGE goes to 0x0 at the ROM's own 115200 baud", async () => {
    board = await startFakeBoard();
    const image = randomBytes(20_000);
    const r = await runCli(["flash", "--port", board.path, "--no-reset", "--baud", "115200", imageFile(image)]);
    expect(r.code).toBe(0);
    expect(board.esp.read(0, image.length)).toEqual(image);
    expect(board.esp.commands).not.toContain("CHANGE_BAUDRATE");
  });

  it("no such port", async () => {
    const r = await runCli(["flash", "--port", "/dev/ttyDOESNOTEXIST9", "--no-reset", imageFile(randomBytes(64))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no such serial port: /dev/ttyDOESNOTEXIST9");
  });

  it("permission denied, with the dialout hint", async () => {
    board = await startFakeBoard();
    const pty = realpathSync(board.path);
    const image = imageFile(randomBytes(64));
    // Take our own access to the pty away. Root ignores file modes while it holds CAP_DAC_OVERRIDE, so as root the
    // CLI runs without it (still root, so it can read a checkout only root may read, under /root or mktemp -d).
    chmodSync(pty, 0o000);
    const r = await runCli(["flash", "--port", pty, "--no-reset", image], process.getuid?.() === 0 ? withoutRootFileAccess() : {});
    expect(r.stderr).toContain(`permission denied opening ${pty}`);
    expect(r.stderr).toContain("dialout");
    expect(r.code).toBe(1);
    expect(board.esp.commands).toEqual([]);
  });

  it("no answer from the bootloader, with the boot-button hint", async () => {
    board = await startFakeBoard({ silent: true });
    const r = await runCli(["flash", "--port", board.path, "--no-reset", imageFile(randomBytes(64))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no answer from the bootloader");
    expect(r.stderr).toMatch(/hold BOOT/);
  });

  it("wrong chip: refuses before writing anything", async () => {
    board = await startFakeBoard();
    const r = await runCli(["flash", "--port", board.path, "--no-reset", "--chip", "esp32", imageFile(randomBytes(1024))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("wrong chip: the board on");
    expect(r.stderr).toContain("is an ESP8266 (ESP8266EX), not an ESP32");
    expect(board.esp.writes).toEqual([]);
  });

  it("image too big for the flash: refuses before writing anything", async () => {
    board = await startFakeBoard({ flashSize: 512 * 1024 });
    const r = await runCli(["flash", "--port", board.path, "--no-reset", "--baud", "115200", `0x1000:${imageFile(randomBytes(512 * 1024))}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/image too big for the flash: firmware\.bin is 524288 bytes at 0x1000 .* the board has 512KB/);
    expect(board.esp.writes).toEqual([]);
  });

  it("a flash that does not keep what was written fails MD5 verification", async () => {
    board = await startFakeBoard({ corruptWrites: true });
    const r = await runCli(["flash", "--port", board.path, "--no-reset", "--baud", "115200", imageFile(randomBytes(8192))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("verification failed");
  });

  it("--port is required", async () => {
    const r = await runCli(["flash", imageFile(randomBytes(16))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--port is required");
  });
});
