// INSIDE XS, for the allocation and instruction benches: cranks whose only work is a registered action, so the
// worker's meter after the crank (heap count, instructions) belongs to that action and a fixed delivery cost.
// Also a GC sentinel (a WeakRef whose target is garbage: cleared by any collection) and heap pre-growth.
import { onDelivery } from "../../../hosts/xs/modules/bridge.ts";
import { Builtin, METER_OP } from "./meter-ops.ts";

/** An action run by a measured crank: (a, b, n) come from the delivery. */
export type Action = (a: number, b: number, n: number) => void;

const actions: (Action | undefined)[] = [];

/** Registers action `code` (1..254). */
export function action(code: number, run: Action): void { actions[code] = run; }

let sentinel: WeakRef<object> | undefined;
let collected = false;

action(Builtin.Nothing, () => {});
// The target is kept alive until the crank that made the WeakRef ends: arm in the crank before a window.
action(Builtin.Arm, () => { sentinel = new WeakRef({}); });
action(Builtin.Probe, () => { collected = sentinel !== undefined && sentinel.deref() === undefined; sentinel = undefined; });
// n objects of 2 slots each, alive together, then dropped: the heap grows to hold them and keeps its size.
action(Builtin.Grow, (_a, _b, n) => {
  let head: { next: unknown } | undefined;
  for (let i = 0; i < n; i++) head = { next: head };
  head = undefined;
});
// n objects of 2 slots each, garbage at once: fills the free list until a collection runs (which does not
// compact chunks, unlike a forced one).
let last: unknown;
action(Builtin.Churn, (_a, _b, n) => { for (let i = 0; i < n; i++) last = { next: i }; last = undefined; });
// n ArrayBuffers of `a` bytes: the calibration of the chunk measurement.
action(Builtin.Allocate, (a, _b, n) => { for (let i = 0; i < n; i++) new ArrayBuffer(a); });

onDelivery(METER_OP, (_id, bytes) => {
  const run = actions[bytes[0]];
  if (!run) throw new Error(`meter: no action ${bytes[0]}`);
  run(bytes[1], bytes[2], bytes[3] | (bytes[4] << 8) | (bytes[5] << 16) | (bytes[6] << 24));
});

/** Whether a collection ran between the last Arm and Probe. */
export function probed(): boolean { return collected; }
