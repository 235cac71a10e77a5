// Moddable SDK `pins/analog` and `pins/digital` (documentation/pins/pins.md), declared no wider than the SDK's
// typings (mcconfig checks src/ against those): the runtime's instances also have close(), the typings do not.
declare module "pins/analog" {
  export default class Analog {
    /** Reads the ADC on `pin` (ESP8266: pin 0 = A0); 0..1023 on ESP8266 (10 bit). */
    static read(pin: number): number;
  }
}
declare module "pins/digital" {
  export type Mode = 0 | 1 | 2 | 3 | 8 | 9;
  export class Digital {
    constructor(dictionary: { pin: number; mode: number; port?: string });
    constructor(pin: number, mode: number);
    constructor(port: string, pin: number, mode: number);
    read(): number;
    write(value: number): void;
    mode(mode: Mode): void;
    static read(pin: number): number;
    static write(pin: number, value: number): void;
    static readonly Input: 0;
    static readonly InputPullUp: 1;
    static readonly InputPullDown: 2;
    static readonly InputPullUpDown: 3;
    static readonly Output: 8;
    static readonly OutputOpenDrain: 9;
  }
  export { Digital as default };
}
