// GPIO and ADC state of one simulated device: analog inputs (A0 = a photocell whose light level drifts slowly,
// deterministic per device id and time; tests pin it with setAnalog) and digital pin modes/levels with a
// change hook, read by hosts/node/modules/analog.ts and digital.ts and by the simulator's view.
import type { Board, BoardPins } from "../../hosts/node/board.ts";
import { PinMode } from "../../hosts/shared/moddable-constants.ts";

export interface DigitalPin {
  /** A PinMode value. */
  mode: number;
  /** Level on the pin: what the device wrote (outputs) or what the outside drives (inputs). */
  level: 0 | 1;
  /** Writes since boot (outputs). */
  writes: number;
}

export type PinListener = (pin: number, level: 0 | 1, board: Board) => void;

/** Highest GPIO number accepted (ESP32 has 0..39; ESP8266 0..16). */
export const maxPin = 39;

export class Pins implements BoardPins {
  /** Digital pins touched so far, by number. */
  readonly digital = new Map<number, DigitalPin>();
  /** Analog pins pinned to a value by setAnalog. */
  private readonly analogOverrides = new Map<number, number>();
  private listeners: PinListener[] = [];
  /** Phase and period of the simulated daylight, from the device id. */
  private readonly phase: number;
  private readonly period: number;
  private readonly seed: number;

  constructor(private readonly board: Board) {
    let h = 2166136261;
    for (let i = 0; i < board.id.length; i++) h = Math.imul(h ^ board.id.charCodeAt(i), 16777619) >>> 0;
    this.seed = h;
    this.phase = (h % 6283) / 1000;
    this.period = 120_000 + (h % 180_000); // 2..5 minutes from dark to bright and back
  }

  // --- analog ---------------------------------------------------------------------------------

  /** Pins analog `pin` to `value` (0..1023), or back to the simulation with undefined. */
  setAnalog(pin: number, value: number | undefined): void {
    checkPin(pin);
    if (value === undefined) this.analogOverrides.delete(pin);
    else {
      if (!(value >= 0 && value <= 1023)) throw new RangeError(`analog value ${value} is outside 0..1023`);
      this.analogOverrides.set(pin, Math.round(value));
    }
  }

  /** What the ADC reads on `pin` now: the override, else the photocell on A0, else 0. */
  readAnalog(pin: number): number {
    checkPin(pin);
    const fixed = this.analogOverrides.get(pin);
    if (fixed !== undefined) return fixed;
    return pin === 0 ? this.photocell(this.board.clock.now()) : 0;
  }

  /** The photocell at time `t` (ms): a slow day/night swing plus a little flicker, 0..1023, same for the same id and t. */
  photocell(t: number): number {
    const swing = Math.sin((2 * Math.PI * t) / this.period + this.phase);
    const second = Math.floor(t / 1000);
    let x = (this.seed ^ Math.imul(second, 2654435761)) >>> 0;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const flicker = ((x >>> 0) % 21) - 10;
    return Math.max(0, Math.min(1023, Math.round(512 + 400 * swing + flicker)));
  }

  // --- digital --------------------------------------------------------------------------------

  /** The pin's state, created as an input at level 0 on first use. */
  pin(pin: number): DigitalPin {
    checkPin(pin);
    let p = this.digital.get(pin);
    if (!p) this.digital.set(pin, (p = { mode: PinMode.Input, level: 0, writes: 0 }));
    return p;
  }

  setMode(pin: number, mode: number): void {
    const valid = Object.values(PinMode) as number[];
    if (!valid.includes(mode)) throw new Error("unsupported mode");
    const p = this.pin(pin);
    p.mode = mode;
    // An undriven pull-up input reads 1, like a button that is not pressed.
    if (mode === PinMode.InputPullUp && !this.driven.has(pin)) p.level = 1;
  }

  /** The device writes an output pin. */
  write(pin: number, value: number): void {
    const p = this.pin(pin);
    p.writes++;
    this.setLevel(pin, p, value ? 1 : 0);
  }

  /** The device reads a pin. */
  read(pin: number): 0 | 1 {
    return this.pin(pin).level;
  }

  /** The outside world drives an input pin (a button press); outputs ignore it. */
  drive(pin: number, value: 0 | 1): void {
    const p = this.pin(pin);
    this.driven.add(pin);
    if (p.mode === PinMode.Output) return;
    this.setLevel(pin, p, value);
  }

  /** Level of a pin, undefined if the device never touched it. */
  level(pin: number): 0 | 1 | undefined {
    return this.digital.get(pin)?.level;
  }

  /** Calls `listener` whenever a digital level changes; returns a function that removes it. */
  onChange(listener: PinListener): () => void {
    this.listeners.push(listener);
    return () => { this.listeners = this.listeners.filter((l) => l !== listener); };
  }

  private readonly driven = new Set<number>();

  private setLevel(pin: number, p: DigitalPin, level: 0 | 1): void {
    if (p.level === level) return;
    p.level = level;
    for (const l of this.listeners) l(pin, level, this.board);
  }
}

function checkPin(pin: number): void {
  if (!Number.isInteger(pin) || pin < 0 || pin > maxPin) throw new RangeError(`pin ${pin} does not exist (0..${maxPin})`);
}
