// Stand-ins for what `xsmq build` needs and cannot be installed here: a $MODDABLE whose mcconfig is a script
// that records its arguments, working folder and the `tsc` it was given, and "builds" an image like mcconfig
// (into OUT/bin/<platform>[/mc]/<mode>/<folder name of manifest.json>); an $ESP_BASE with the ESP8266 toolchain's
// files; temporary folders removed after each test; and an environment without the developer's SDK settings.
import { afterEach } from "vitest";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** A temporary folder, removed after the test. */
export function temp(prefix = "xsmq-build-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A fake SDK: manifest_base.json, and (unless told not to) the recording mcconfig. Files: args.txt, cwd.txt, tsc.txt. */
export function fakeSdk(withMcconfig = true): string {
  const sdk = temp();
  mkdirSync(join(sdk, "examples"), { recursive: true });
  writeFileSync(join(sdk, "examples", "manifest_base.json"), "{}");
  if (withMcconfig) {
    const bin = join(sdk, "build", "bin", "lin", "release");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "mcconfig"), `#!/bin/sh
printf '%s\\n' "$@" > "${sdk}/args.txt"
pwd > "${sdk}/cwd.txt"
name=$(basename "$(pwd)")
out=""; plat=""; mode=release
while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift;; -p) plat="$2"; shift;; -d) mode=debug;; esac; shift; done
# Like mcconfig: -o must exist; the makefiles run tsc from PATH; lin apps go to bin/lin/mc/<mode>/<name>/mc.so.
[ -d "$out" ] || { echo "# mcconfig error: -o '$out': directory not found!" >&2; exit 1; }
tsc --version > "${sdk}/tsc.txt" 2>&1
if [ "$plat" = lin ]; then
  mkdir -p "$out/bin/lin/mc/$mode/$name" && printf 'SO' > "$out/bin/lin/mc/$mode/$name/mc.so"
else
  mkdir -p "$out/bin/$plat/$mode/$name" && printf 'FIRMWARE' > "$out/bin/$plat/$mode/$name/main.bin"
fi
exit \${MCCONFIG_EXIT:-0}
`);
    chmodSync(join(bin, "mcconfig"), 0o755);
  }
  return sdk;
}

/** An $ESP_BASE with the ESP8266 toolchain's gcc and the RTOS SDK's boot image, as the esp makefile expects them. */
export function fakeEspBase(): string {
  const base = temp();
  const gccDir = join(base, "toolchain", "Linux", "xtensa-lx106-elf", "bin");
  mkdirSync(gccDir, { recursive: true });
  writeFileSync(join(gccDir, "xtensa-lx106-elf-gcc"), "");
  const fw = join(base, "ESP8266_RTOS_SDK", "components", "esp8266", "firmware");
  mkdirSync(fw, { recursive: true });
  writeFileSync(join(fw, "boot_v1.7.bin"), "BOOT");
  return base;
}

/** process.env without the SDK and toolchain variables (and the settings xsmq reads), plus `extra`; undefined removes. */
export function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ESP_BASE: undefined, IDF_PATH: undefined, ESPRESSIF_SDK_ROOT: undefined, MODDABLE: undefined,
    XSMQ_BUILD_DIR: undefined, AIO_USERNAME: undefined, AIO_KEY: undefined, WIFI_SSID: undefined, WIFI_PASSWORD: undefined, ...extra };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  return e;
}
