// Mode numbers of Moddable's `pins/digital` (modules/pins/digital/digital.js) and `wifi` (WiFi.Mode), shared by
// the stand-ins in Node (hosts/node), those inside XS (hosts/xs) and the simulated board (sim/board).
// Runs inside XS too: plain JavaScript, no Node APIs.

export const PinMode = { Input: 0, InputPullUp: 1, InputPullDown: 2, InputPullUpDown: 3, Output: 8, OutputOpenDrain: 9 } as const;

export const WiFiMode = { none: 0, station: 1, accessPoint: 2 } as const;
