// GPIO and ADC state of one simulated device. Placeholder: fleshed out by the app/simulator work.
import type { Device } from "./device.ts";

export class Pins {
  constructor(readonly device: Device) {}
}
