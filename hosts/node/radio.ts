// The Wi-Fi radio of one simulated device. Placeholder: fleshed out by the Wi-Fi host work.
import type { Device } from "./device.ts";

export class Radio {
  constructor(readonly device: Device) {}
}
