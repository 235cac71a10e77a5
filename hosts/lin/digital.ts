// `pins/digital` for Moddable's `lin` platform, which has no GPIO: levels are kept in memory and changes are
// traced, so the example app's LED shows up in the console. Device code (XS): no Node APIs.
const levels: number[] = [];

export default class Digital {
  static readonly Input = 0;
  static readonly InputPullUp = 1;
  static readonly InputPullDown = 2;
  static readonly InputPullUpDown = 3;
  static readonly Output = 8;
  static readonly OutputOpenDrain = 9;
  private readonly pin: number;

  constructor(dictionary: { pin: number; mode: number }) {
    this.pin = dictionary.pin;
  }

  static read(pin: number): 0 | 1 {
    return levels[pin] ? 1 : 0;
  }

  static write(pin: number, value: number): void {
    const level = value ? 1 : 0;
    if (levels[pin] !== level) trace(`GPIO ${pin} -> ${level}\n`);
    levels[pin] = level;
  }

  read(): 0 | 1 { return Digital.read(this.pin); }
  write(value: number): void { Digital.write(this.pin, value); }
  close(): void {}
}
