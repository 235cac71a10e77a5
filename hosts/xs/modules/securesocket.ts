// Moddable's `securesocket` INSIDE XS (xsnap): not simulated, there is no TLS in the XS test host. It exists so that
// src/ modules that import it (net/tls-transport, and feeds/adafruit-io through it) load; making one says where TLS
// runs instead: Node's simulator (hosts/node/modules/securesocket.ts) and Moddable's own lin runtime.
export default class SecureSocket {
  constructor(_dictionary: object) {
    throw new Error("securesocket: TLS does not run inside the XS test host; use the Node simulator or Moddable's lin runtime");
  }
}
