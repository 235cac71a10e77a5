// Moddable's `pins/analog` INSIDE XS: the simulated board's ADC in Node (hosts/node/modules/analog.ts:
// 10-bit readings, A0 a photocell that tests pin with `xs.device.pins.setAnalog`).
import { nextId } from "./bridge.ts";
import { remote } from "./remote.ts";

export default class Analog {
  static readonly CrossingUp = 0;
  static readonly CrossingDown = 1;
  static readonly CrossingUpDown = 2;

  static read(pin: number): number {
    return remote({ module: "pins/analog", op: "static", name: "read", args: [pin] });
  }

  readonly resolution = 10;
  private readonly instance = nextId();

  constructor(dictionary: { pin: number }) {
    remote({ module: "pins/analog", op: "new", instance: this.instance, args: [dictionary] });
  }

  read(): number {
    return remote({ module: "pins/analog", op: "call", instance: this.instance, name: "read", args: [] });
  }

  close(): void {
    remote({ module: "pins/analog", op: "call", instance: this.instance, name: "close", args: [] });
    remote({ module: "pins/analog", op: "free", instance: this.instance });
  }
}
