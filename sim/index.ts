// xsmq's simulator for Node code (`import { startSimulation } from "xsmq/sim"`): runs an app on simulated boards
// against a local Adafruit IO emulator, a local plain MQTT broker or a real one; faults, dashboard, status.
// Device code needs its XS modules resolved: vitest with the "xsmq/vitest" plugin, or `node --import xsmq/register`.
export { startSimulation } from "./run/runner.ts";
export type { Dashboard, Faults, SimDevice, Simulation, SimulationOptions } from "./run/runner.ts";
export type { Summary } from "./run/summary.ts";
export { loadApp, type AppEntry } from "./run/app-entry.ts";
export { startAioBroker } from "./aio/broker.ts";
export type { AioBroker, AioBrokerOptions, FeedRecord, StoredPoint } from "./aio/broker.ts";
export { startPlainBroker, type PlainBroker } from "./brokers/plain.ts";
export { Device, type DeviceOptions } from "./board/device.ts";
export type { App, AppStatus } from "../src/app/status.ts";
