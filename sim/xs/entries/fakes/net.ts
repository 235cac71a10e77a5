// INSIDE XS: Moddable's `net` for the in-memory runs: addresses resolve to themselves.
export default class Net {
  static get(_property: string): undefined { return undefined; }
  static resolve(host: string, callback: (name: string, address: string | undefined) => void): void { callback(host, host); }
}
