// Moddable's `pins/digital` INSIDE XS: the simulated board's GPIO in Node (hosts/node/modules/digital.ts;
// tests read levels with `xs.device.pins.level(pin)`).
import { nextId } from "./bridge.ts";
import { remote } from "./remote.ts";
import { DigitalStatics } from "../../shared/moddable-constants.ts";

export default class Digital extends DigitalStatics {
  static read(pin: number): 0 | 1 {
    return remote({ module: "pins/digital", op: "static", name: "read", args: [pin] });
  }

  static write(pin: number, value: number): void {
    remote({ module: "pins/digital", op: "static", name: "write", args: [pin, value] });
  }

  private readonly instance = nextId();

  constructor(a: unknown, b?: unknown, c?: unknown) {
    super();
    const args = c !== undefined ? [a, b, c] : b !== undefined ? [a, b] : [a];
    remote({ module: "pins/digital", op: "new", instance: this.instance, args });
  }

  read(): 0 | 1 {
    return remote({ module: "pins/digital", op: "call", instance: this.instance, name: "read", args: [] });
  }

  write(value: number): void {
    remote({ module: "pins/digital", op: "call", instance: this.instance, name: "write", args: [value] });
  }

  mode(mode: number): void {
    remote({ module: "pins/digital", op: "call", instance: this.instance, name: "mode", args: [mode] });
  }

  close(): void {
    remote({ module: "pins/digital", op: "call", instance: this.instance, name: "close", args: [] });
    remote({ module: "pins/digital", op: "free", instance: this.instance });
  }
}
