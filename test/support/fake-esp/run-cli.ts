// Runs the real `xsmq` CLI (bin/xsmq.js) as a child process, bounded in time, and collects its output.
import { spawn, type SpawnOptions } from "node:child_process";
import { fileURLToPath } from "node:url";

export const xsmqBin = fileURLToPath(new URL("../../../bin/xsmq.js", import.meta.url));

export interface CliRun { code: number | null; stdout: string; stderr: string }

/** `prefix`: a command that runs node (e.g. ["setpriv", ...] to drop capabilities first). */
export function runCli(args: string[], options: SpawnOptions & { timeoutMs?: number; input?: string; prefix?: string[] } = {}): Promise<CliRun> {
  const { timeoutMs = 25_000, input, prefix = [], ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const command = [...prefix, process.execPath, xsmqBin, ...args];
    const child = spawn(command[0], command.slice(1), { stdio: ["pipe", "pipe", "pipe"], ...spawnOptions });
    let stdout = "", stderr = "";
    child.stdout!.on("data", (d) => { stdout += d; });
    child.stderr!.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`xsmq ${args.join(" ")} timed out\n${stdout}\n${stderr}`)); }, timeoutMs);
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("close", (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}
