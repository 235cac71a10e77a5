// Codes shared by the Node side (sim/xs/meter.ts) and the XS side (sim/xs/entries/meter.ts) of
// measured cranks. Plain constants: safe to import on both sides.

/** Delivery op of a measured crank; far from the Node side's own ops (hosts/xs/protocol.ts). */
export const METER_OP = 0xb0;

/** Built-in actions: nothing, GC sentinel arm/probe, heap growth, garbage slots, a known allocation (calibration). */
export const Builtin = { Nothing: 240, Arm: 241, Probe: 242, Grow: 243, Churn: 244, Allocate: 246 } as const;

/**
 * Actions of the message entries (sim/xs/entries/memory.ts: src/ over the in-memory transport; moddable-peer.ts:
 * Moddable's client over fakes): a = QoS, b = payload size index, n = messages.
 */
export const Run = { Publish: 1, Receive: 2, Loop: 3, Replay: 4, ReplayDry: 5 } as const;
