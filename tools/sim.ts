// `xsmq sim`: the example app in the simulator. Placeholder until the simulator lands.
export const help = "xsmq sim [--devices N] [--broker URL] [--duration S] [--json]  run the example device(s) in the simulator";
export async function run(_argv: string[]): Promise<number> {
  console.error("xsmq sim: not implemented yet");
  return 1;
}
