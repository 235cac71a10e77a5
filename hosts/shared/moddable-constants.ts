// Numbers that Moddable's modules publish, shared by the stand-ins in Node (hosts/node), those inside XS
// (hosts/xs and the fakes of sim/xs/entries) and the simulated board (sim/board): `pins/digital` modes
// (modules/pins/digital/digital.js), WiFi.Mode, and the `socket` messages. Runs inside XS too: no Node APIs.

export const PinMode = { Input: 0, InputPullUp: 1, InputPullDown: 2, InputPullUpDown: 3, Output: 8, OutputOpenDrain: 9 } as const;

export const WiFiMode = { none: 0, station: 1, accessPoint: 2 } as const;

/** The statics of `pins/digital`'s Digital class; each Digital stand-in extends this. */
export class DigitalStatics {
  static readonly Input = PinMode.Input;
  static readonly InputPullUp = PinMode.InputPullUp;
  static readonly InputPullDown = PinMode.InputPullDown;
  static readonly InputPullUpDown = PinMode.InputPullUpDown;
  static readonly Output = PinMode.Output;
  static readonly OutputOpenDrain = PinMode.OutputOpenDrain;
  static readonly WakeOnRise = 1 << 6;
  static readonly WakeOnFall = 1 << 7;
}

/** The callback messages of `socket`'s Socket class, as its statics; each Socket stand-in extends this. */
export class SocketMessages {
  static readonly connected = 1;
  static readonly readable = 2;
  static readonly writable = 3;
  static readonly error = -2;
  static readonly disconnected = -1;
}
