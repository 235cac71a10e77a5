// Command-line parsing shared by every command: node:util's parseArgs, with negative numbers accepted as
// option values (`--duration -1` reads like `--duration=-1`), and the one number parser, so each numeric
// option gets the same checks and the same sentence whatever the command.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CliError } from "./cli-error.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * parseArgs, strict. A string option followed by something like `-1` or `-0.5` takes it as its value,
 * as `--name=-1` would, instead of parseArgs' "ambiguous argument" error.
 */
export function parseOptions<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === "string" && /^-[\d.]/.test(argv[i + 1] ?? "")) {
      args.push(`${arg}=${argv[++i]}`);
    } else args.push(arg);
  }
  return parseArgs({ args, options, allowPositionals, strict: true });
}

export interface NumberRule {
  /** Smallest value allowed (default 0). */
  min?: number;
  /** Largest value allowed. */
  max?: number;
  /** min itself is not allowed (e.g. seconds > 0). */
  above?: boolean;
  /** Whole numbers only. */
  integer?: boolean;
  /** What the number counts, for the message: "seconds", "devices"... */
  unit?: string;
  /** Shown below the error, e.g. how to get the effect of a refused value. */
  hint?: string;
}

/** The range a rule allows, in words: "a whole number of devices >= 1", "seconds > 0". */
export function describeRule(rule: NumberRule): string {
  const what = rule.integer ? `a whole number${rule.unit ? ` of ${rule.unit}` : ""}` : rule.unit ?? "a number";
  const min = rule.min ?? 0;
  const range = `${rule.above ? ">" : ">="} ${min}${rule.max !== undefined ? ` and <= ${rule.max}` : ""}`;
  return `${what} ${range}`;
}

/**
 * The one number parser of the CLI: `text` (an option's value) as a number within `rule`, `fallback` when
 * the option was not given. Anything else is a CliError (exit code 2) naming the option, the value and the range.
 */
export function numberOption(name: string, text: string | undefined, fallback: number, rule?: NumberRule): number;
export function numberOption(name: string, text: string | undefined, fallback: undefined, rule?: NumberRule): number | undefined;
export function numberOption(name: string, text: string | undefined, fallback: number | undefined, rule: NumberRule = {}): number | undefined {
  if (text === undefined) return fallback;
  const n = text.trim() === "" ? NaN : Number(text);
  const min = rule.min ?? 0;
  const ok = Number.isFinite(n) && (rule.above ? n > min : n >= min) && (rule.max === undefined || n <= rule.max) &&
    (!rule.integer || Number.isInteger(n));
  if (!ok) throw new CliError(`--${name} ${text}: expected ${describeRule(rule)}`, rule.hint, 2);
  return n;
}

/** --duration: seconds > 0; 0 would read as "no time at all", and leaving it out already means "until stopped". */
export const durationRule: NumberRule = { above: true, unit: "seconds", hint: "Leave --duration out to run until you stop it (q or Ctrl-C)." };

/** --broker's value: mqtt://host[:port] (plain) or mqtts://host[:port] (TLS) as a URL, undefined when not given. */
export function brokerOption(text: string | undefined): URL | undefined {
  if (text === undefined) return undefined;
  if (!/^mqtts?:\/\/[^/:]+(:\d+)?\/?$/.test(text)) {
    throw new CliError(`--broker ${text}: expected mqtt://host:port or mqtts://host:port (TLS)`, "e.g. --broker mqtts://io.adafruit.com:8883", 2);
  }
  return new URL(text);
}

/** The device settings a --broker URL implies: TLS for mqtts:// (port 8883 by default), none for mqtt:// (1883). */
export function brokerSettings(url: URL): { broker: string; port: string; secure: string } {
  const secure = url.protocol === "mqtts:";
  return { broker: url.hostname, port: url.port || (secure ? "8883" : "1883"), secure: String(secure) };
}
