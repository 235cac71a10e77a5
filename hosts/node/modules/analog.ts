// Node implementation of Moddable's `pins/analog` (documentation/pins/pins.md#analog) over the current
// device's Pins: 10-bit readings, 0..1023; A0 is the simulated photocell.
import { currentBoard, type Board } from "../board.ts";

export default class Analog {
  static CrossingUp = 0;
  static CrossingDown = 1;
  static CrossingUpDown = 2;

  /** Samples `pin` (ESP8266: 0 = A0). */
  static read(pin: number): number {
    return currentBoard().pins.readAnalog(toPin(pin));
  }

  readonly resolution = 10;
  private board: Board | undefined;
  private readonly pin: number;

  constructor(dictionary: { pin: number }) {
    if (!dictionary || dictionary.pin === undefined) throw new Error("pin missing");
    this.pin = toPin(dictionary.pin);
    this.board = currentBoard();
    this.board.pins.readAnalog(this.pin); // validates the pin now, as the native constructor does
  }

  read(): number {
    if (!this.board) throw new Error("closed");
    return this.board.pins.readAnalog(this.pin);
  }

  close(): void {
    this.board = undefined;
  }
}

function toPin(pin: unknown): number {
  const n = Number(pin);
  if (!Number.isInteger(n)) throw new RangeError("invalid pin");
  return n;
}
