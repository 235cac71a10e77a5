// `xsmq build`: clear errors for each missing piece, and the exact mcconfig invocation, checked with a
// stub mcconfig (a script that records its arguments) in a temporary $MODDABLE, since the SDK and the
// ESP toolchains cannot be installed here.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { runCli } from "./support/fake-esp/run-cli.ts";
import { cleanEnv as env, fakeEspBase, fakeSdk, temp } from "./support/fake-sdk.ts";

const repoRoot = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

describe("xsmq build", () => {
  it("without $MODDABLE: names the SDK and how to install it", async () => {
    const r = await runCli(["build", "--skip-typecheck"], { env: env({ XSMQ_BUILD_DIR: temp() }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("missing the Moddable SDK ($MODDABLE is not set)");
    expect(r.stderr).toContain("git clone https://github.com/Moddable-OpenSource/moddable");
  });

  it("with an SDK but no mcconfig: names where it looked and how to build it", async () => {
    const sdk = fakeSdk(false);
    const r = await runCli(["build", "--skip-typecheck"], { env: env({ MODDABLE: sdk, XSMQ_BUILD_DIR: temp(), PATH: "/usr/bin:/bin" }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`missing mcconfig (not in ${sdk}/build/bin/lin/release/mcconfig`);
    expect(r.stderr).toContain("cd $MODDABLE/build/makefiles/lin && make");
  });

  it("without the ESP8266 toolchain: names it and the set-up guide", async () => {
    const r = await runCli(["build", "--skip-typecheck", "--platform", "esp8266"], { env: env({ MODDABLE: fakeSdk(), ESP_BASE: temp(), XSMQ_BUILD_DIR: temp() }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot build for esp8266: missing the ESP8266 toolchain");
    expect(r.stderr).toContain("devices/esp8266.md");
  });

  it("without ESP-IDF: names $IDF_PATH", async () => {
    const r = await runCli(["build", "--skip-typecheck", "--platform", "esp32"], { env: env({ MODDABLE: fakeSdk(), XSMQ_BUILD_DIR: temp() }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("missing ESP-IDF for the ESP32 ($IDF_PATH is not set)");
  });

  it("passes platform, debug, output dir and Wi-Fi/broker settings to mcconfig as config, from the repo root", async () => {
    const sdk = fakeSdk(), out = temp();
    const r = await runCli(["build", "--skip-typecheck", "--platform", "esp8266", "--ssid", "My Net", "--password", "s3cret pass",
      "--broker", "broker.local", "--broker-port", "8883", "--username", "maker", "--key", "aio_KEY"],
      { env: env({ MODDABLE: sdk, ESP_BASE: fakeEspBase(), XSMQ_BUILD_DIR: out }) });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const args = readFileSync(join(sdk, "args.txt"), "utf8").trimEnd().split("\n");
    expect(args).toEqual(["-m", "-p", "esp", "-d", "-t", "build", "-o", join(out, "moddable"),
      "ssid=My Net", "password=s3cret pass", "broker=broker.local", "port=8883", "username=maker", "key=aio_KEY"]);
    expect(readFileSync(join(sdk, "cwd.txt"), "utf8").trim()).toBe(repoRoot);
    expect(r.stdout).not.toContain("s3cret"); // secrets are masked in what we print
    // The images Moddable's esp makefile flashes, at its offsets, recorded for `xsmq flash`.
    const record = JSON.parse(readFileSync(join(out, "xsmq-images.json"), "utf8"));
    expect(record.platform).toBe("esp8266");
    expect(record.images.map((i: { address: number; path: string }) => [i.address, basename(i.path)])).toEqual([[0, "boot_v1.7.bin"], [0x1000, "main.bin"]]);
  });

  it("--release drops -d; lin needs no ESP toolchain; mcconfig's failure is reported", async () => {
    const sdk = fakeSdk();
    const ok = await runCli(["build", "--skip-typecheck", "--platform", "lin", "--release"], { env: env({ MODDABLE: sdk, XSMQ_BUILD_DIR: temp() }) });
    expect(ok.code).toBe(0);
    expect(readFileSync(join(sdk, "args.txt"), "utf8").trimEnd().split("\n").slice(0, 4)).toEqual(["-m", "-p", "lin", "-t"]);
    const bad = await runCli(["build", "--skip-typecheck", "--platform", "lin"], { env: env({ MODDABLE: sdk, XSMQ_BUILD_DIR: temp(), MCCONFIG_EXIT: "3" }) });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("mcconfig failed (exit code 3)");
  });

  it("creates its output folder, hands mcconfig our TypeScript (>= 6) as `tsc`, and prints lin's real mc.so path", async () => {
    const sdk = fakeSdk(), out = join(temp(), "not", "yet");
    // A PATH without any tsc: only the CLI's own can answer.
    const r = await runCli(["build", "--skip-typecheck", "--platform", "lin"], { env: env({ MODDABLE: sdk, XSMQ_BUILD_DIR: out, PATH: "/usr/bin:/bin" }) });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const version = JSON.parse(readFileSync(join(repoRoot, "node_modules/typescript/package.json"), "utf8")).version as string;
    expect(Number(version.split(".")[0])).toBeGreaterThanOrEqual(6);
    expect(readFileSync(join(sdk, "tsc.txt"), "utf8").trim()).toBe(`Version ${version}`);
    expect(r.stdout).toContain(`Built the lin app: ${join(out, "moddable", "bin", "lin", "mc", "debug", basename(repoRoot), "mc.so")}`);
  });

  it("rejects an unknown platform", async () => {
    const r = await runCli(["build", "--skip-typecheck", "--platform", "nrf52"], { env: env({}) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown platform "nrf52"');
  });
});
