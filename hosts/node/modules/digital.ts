// Node implementation of Moddable's `pins/digital` (documentation/pins/pins.md#digital) over the current
// device's Pins: static read/write, instances from a dictionary or ([port,] pin, mode), mode(), close().
import { currentBoard, type Board } from "../board.ts";
import { DigitalStatics, PinMode } from "../../shared/moddable-constants.ts";

export default class Digital extends DigitalStatics {
  /** Makes `pin` an input and samples it. */
  static read(pin: number): 0 | 1 {
    const pins = currentBoard().pins;
    pins.setMode(pin, PinMode.Input);
    return pins.read(pin);
  }

  /** Makes `pin` an output and sets it. */
  static write(pin: number, value: number): void {
    const pins = currentBoard().pins;
    pins.setMode(pin, PinMode.Output);
    pins.write(pin, value);
  }

  private board: Board | undefined;
  readonly pin: number;

  constructor(dictionary: { pin: number; mode: number; port?: string });
  constructor(pin: number, mode: number);
  constructor(port: string, pin: number, mode: number);
  constructor(a: unknown, b?: unknown, c?: unknown) {
    super();
    let pin: unknown, mode: unknown;
    if (typeof a === "object" && a !== null) {
      const d = a as { pin?: unknown; mode?: unknown };
      if (d.pin === undefined) throw new Error("pin missing");
      if (d.mode === undefined) throw new Error("mode missing");
      pin = d.pin; mode = d.mode;
    } else if (c !== undefined) {
      pin = b; mode = c; // (port, pin, mode): the simulator has one port
    } else {
      pin = a; mode = b;
    }
    const n = Number(pin);
    if (!Number.isInteger(n)) throw new Error("can't init pin");
    this.board = currentBoard();
    this.pin = n;
    this.board.pins.setMode(n, Number(mode));
  }

  read(): 0 | 1 {
    return this.open().pins.read(this.pin);
  }

  write(value: number): void {
    this.open().pins.write(this.pin, value);
  }

  mode(mode: number): void {
    this.open().pins.setMode(this.pin, mode);
  }

  close(): void {
    this.board = undefined;
  }

  private open(): Board {
    if (!this.board) throw new Error("closed");
    return this.board;
  }
}
