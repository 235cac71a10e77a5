// Network conditions of one simulated device (fault injection for the socket module).
// Placeholder: fleshed out by the socket host work.
import type { Device } from "./device.ts";

export class NetworkConditions {
  constructor(readonly device: Device) {}
}
