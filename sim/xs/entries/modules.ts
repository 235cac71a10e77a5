// XS entry that loads the client's modules and keeps them, nothing more: compared with sim/xs/entries/empty.ts it
// gives what loading them costs in RAM when they are not preloaded (bench/xs: xs.modules_ram_slots).
import * as client from "../../../src/mqtt/client";

const kept: unknown[] = [client];
export function nothing(): number { return kept.length; }
