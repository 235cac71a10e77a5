// A tiny progress bar shared by the commands: redraws in place on a terminal, and prints an occasional
// plain line (every 25%) when the output is a pipe or a log file.

export interface Progress {
  update(done: number, total?: number): void;
  finish(message?: string): void;
}

export function createProgress(label: string, total: number, out: NodeJS.WriteStream = process.stderr): Progress {
  const tty = out.isTTY === true;
  let lastStep = -1;
  let finished = false;
  const width = 30;
  return {
    update(done, newTotal) {
      if (newTotal !== undefined) total = newTotal;
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const percent = Math.floor(fraction * 100);
      if (tty) {
        const filled = Math.round(fraction * width);
        out.write(`\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(percent).padStart(3)}%`);
      } else {
        const step = Math.floor(percent / 25);
        if (step !== lastStep) {
          lastStep = step;
          out.write(`${label} ${percent}%\n`);
        }
      }
    },
    finish(message) {
      if (finished) return;
      finished = true;
      if (tty) out.write("\r\x1b[K");
      if (message) out.write(message + "\n");
    },
  };
}
