// Moddable SDK `pins/analog` and `pins/digital` (documentation/pins/pins.md).
declare module "pins/analog" {
  export default class Analog {
    /** Reads the ADC on `pin` (ESP8266: pin 0 = A0); 0..1023 on ESP8266 (10 bit). */
    static read(pin: number): number;
    constructor(dictionary: { pin: number });
    read(): number;
    close(): void;
    readonly resolution: number;
  }
}
declare module "pins/digital" {
  export default class Digital {
    static read(pin: number): 0 | 1;
    static write(pin: number, value: 0 | 1 | number): void;
    constructor(dictionary: { pin: number; mode: number; port?: string });
    constructor(pin: number, mode: number);
    read(): 0 | 1;
    write(value: 0 | 1 | number): void;
    close(): void;
    static readonly Input: number;
    static readonly InputPullUp: number;
    static readonly InputPullDown: number;
    static readonly InputPullUpDown: number;
    static readonly Output: number;
    static readonly OutputOpenDrain: number;
  }
}
