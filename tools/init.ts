// `xsmq init`: a new firmware project from a template in templates/: its own package.json (depending on xsmq),
// manifest.json including xsmq's module manifests from node_modules/xsmq, src/main.ts, a simulator test, README.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { CliError } from "./cli-error.ts";
import { parseOptions } from "./options.ts";
import { packageRoot, packageVersion } from "./project.ts";

export const templates = {
  "adafruit-io": "photocell to an Adafruit IO feed, LED from the onoff feed (WiFiManager + AdafruitIO)",
  mqtt: "photocell to any MQTT broker, LED from a topic, retained status with a will (WiFiManager + MQTTClient)",
} as const;
type Template = keyof typeof templates;

export const help = `usage: xsmq init [DIR] [--template adafruit-io|mqtt]

Makes a firmware project in DIR (default: this folder), which must be new or empty (package.json,
node_modules and .git may be there: an existing package.json keeps its fields and gains scripts and
dependencies). Then \`npm install\` in it, and \`npx xsmq sim\` runs the app on a simulated board.

templates:
${Object.entries(templates).map(([k, v]) => `  ${k.padEnd(12)} ${v}`).join("\n")}
  (default adafruit-io)`;

/** Entries a folder may already hold (npm i xsmq, git init) and still be a fresh project's home. */
const tolerated = new Set(["package.json", "package-lock.json", "node_modules", ".git", ".npmrc"]);
/** Template files that npm pack would drop or rename, stored under another name. */
const renamed: Record<string, string> = { gitignore: ".gitignore", "env.example": ".env.example" };
const templatesRoot = join(packageRoot, "templates");
const detailsFile = "details.md";

/** An npm package name made from a folder name: lowercase letters, digits, - . _ */
export function packageName(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+|-+$/g, "");
  return name || "my-sensor";
}

/** Every file of a template folder, as paths relative to it. */
function filesOf(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix)).sort().flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(join(dir, rel)).isDirectory() ? filesOf(dir, rel) : [rel];
  });
}

interface PackageJson { name?: string; scripts?: Record<string, string>; dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>; [key: string]: unknown }

/** The project's package.json: the existing one kept, with what the project needs added (never replaced). */
export function projectPackage(existing: PackageJson | undefined, name: string): PackageJson {
  const own = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as PackageJson;
  const range = (pkg: string) => own.dependencies?.[pkg] ?? own.devDependencies?.[pkg] ?? "*";
  const pkg: PackageJson = { name, version: "0.1.0", private: true, ...existing };
  pkg.type ??= "module";
  pkg.scripts = {
    start: "xsmq sim", build: "xsmq build", flash: "xsmq flash", monitor: "xsmq monitor",
    typecheck: "tsc -p tsconfig.json", test: "tsc -p tsconfig.json && vitest run", ...pkg.scripts,
  };
  pkg.dependencies = { ...pkg.dependencies, xsmq: pkg.dependencies?.xsmq ?? `^${packageVersion}` };
  pkg.devDependencies = { typescript: range("typescript"), vitest: range("vitest"), ...pkg.devDependencies };
  return pkg;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, { template: { type: "string", short: "t", default: "adafruit-io" } }, true);
  if (positionals.length > 1) throw new CliError(`one folder at a time (got ${positionals.join(" ")})`, undefined, 2);
  const template = values.template as Template;
  if (!Object.hasOwn(templates, template)) {
    throw new CliError(`unknown template "${values.template}"`, `Use --template ${Object.keys(templates).join(" or --template ")}.`, 2);
  }
  const dir = resolve(positionals[0] ?? ".");
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new CliError(`${dir} is a file, not a folder`, undefined, 2);
    const others = readdirSync(dir).filter((n) => !tolerated.has(n));
    if (others.length > 0) {
      throw new CliError(`${dir} is not empty (${others.slice(0, 5).join(", ")}${others.length > 5 ? ", ..." : ""})`,
        "Give a new folder name: npx xsmq init my-sensor", 2);
    }
  }
  const name = packageName(dir);
  // A template's details.md is not a file of the project: it fills {{details}} in the common README.
  const details = readFileSync(join(templatesRoot, template, detailsFile), "utf8").trimEnd();
  const fill = (text: string) => text.replaceAll("{{details}}", details).replaceAll("{{name}}", name)
    .replaceAll("{{template}}", template).replaceAll("{{about}}", templates[template]);

  const written: string[] = [];
  const write = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
    written.push(rel);
  };
  for (const source of [join(templatesRoot, "common"), join(templatesRoot, template)]) {
    for (const rel of filesOf(source)) if (rel !== detailsFile) write(renamed[rel] ?? rel, fill(readFileSync(join(source, rel), "utf8")));
  }
  const pkgPath = join(dir, "package.json");
  const existing = existsSync(pkgPath) ? (JSON.parse(readFileSync(pkgPath, "utf8")) as PackageJson) : undefined;
  write("package.json", JSON.stringify(projectPackage(existing, name), null, 2) + "\n");

  const here = relative(process.cwd(), dir);
  console.log(`Made ${name} from the ${template} template in ${dir}:`);
  for (const rel of written.sort()) console.log(`  ${rel}`);
  console.log(["", "Next:",
    ...(here ? [`  cd ${here}`] : []),
    "  npm install",
    "  npx xsmq sim                  # the app on a simulated board (q quits)",
    "  npm test                      # type-check src/ and run test/ in the simulator",
    "  cp .env.example .env          # then fill in your Wi-Fi and broker credentials",
    "  npx xsmq build --platform esp8266 && npx xsmq flash && npx xsmq monitor",
    "README.md has the wiring and the rest."].join("\n"));
  return 0;
}
