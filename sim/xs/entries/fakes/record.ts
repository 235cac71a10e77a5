// INSIDE XS: what the in-memory fakes of native modules were asked to do, recorded for one message so the
// fakes' own cost can be replayed without the client (sim/xs/entries/memory.ts). Off (undefined) when measuring.
export const rec: { log: number[] | undefined } = { log: undefined };

/** Calls on a connection, as recorded: [op, arg] pairs. */
export const Op = {
  Deliver: 0, Available: 1, ReadByte: 2, ReadInto: 3, Writable: 4, Write: 5, Skip: 6, ReadBuffer: 7,
} as const;
