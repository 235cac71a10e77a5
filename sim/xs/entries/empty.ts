// XS entry with nothing of ours: the zero line for what loading src/'s modules costs (sim/xs/entries/modules.ts).
export function nothing(): number { return 0; }
