// The one error type commands throw for problems the user can fix: a sentence and what to do about it.
// tools/cli.ts prints it without a stack trace and returns its exit code.

export class CliError extends Error {
  constructor(message: string, readonly hint?: string, readonly exitCode = 1) {
    super(message);
    this.name = "CliError";
  }
}

/** The text the user sees for a CliError: the message, then the hint indented below it. */
export function formatCliError(command: string, error: CliError): string {
  const hint = error.hint ? "\n" + error.hint.split("\n").map((line) => "  " + line).join("\n") : "";
  return `xsmq ${command}: ${error.message}${hint}`;
}
