// Puts a fake ESP8266 behind a pseudo-terminal made by socat, so the real CLI opens it like /dev/ttyUSB0.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeEsp8266, type FakeEspOptions } from "./fake-esp8266.ts";

export interface FakeBoard {
  /** Path of the pty the CLI opens. */
  path: string;
  esp: FakeEsp8266;
  close(): Promise<void>;
}

export async function startFakeBoard(options: FakeEspOptions = {}): Promise<FakeBoard> {
  const dir = mkdtempSync(join(tmpdir(), "xsmq-fake-esp-"));
  const path = join(dir, "ttyFAKE0");
  // socat copies between the pty master and its stdio, which is ours.
  const socat: ChildProcess = spawn("socat", [`pty,raw,echo=0,link=${path}`, "STDIO"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  socat.stderr!.on("data", (d) => { stderr += d; });
  const esp = new FakeEsp8266((bytes) => { socat.stdin!.write(bytes); }, options);
  socat.stdout!.on("data", (chunk: Buffer) => esp.receive(chunk));
  socat.stdin!.on("error", () => {});

  const deadline = Date.now() + 5000;
  while (!existsSync(path)) {
    if (socat.exitCode !== null || Date.now() > deadline) {
      socat.kill();
      throw new Error(`socat did not create the pty (is socat installed? apt-get install socat): ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  // Hold the slave side open so the master never sees a hang-up when the CLI closes and reopens the port.
  const holder = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);

  return {
    path,
    esp,
    async close() {
      closeSync(holder);
      if (socat.exitCode === null) {
        const exited = new Promise((r) => socat.once("exit", r));
        socat.kill();
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
