// Where Wi-Fi credentials come from: the `preference` domain "wifi" (set at run time, survives reboots)
// and `mc/config` (set at build time: `mcconfig ssid=... password=...`). Keys: ssid/password, ssid2/password2, ...
import config from "mc/config";
import Preference from "preference";

export interface AccessPoint {
  ssid: string;
  /** Omitted or "" for an open network. */
  password?: string;
}

/** The preference domain, as in Moddable's webConfigWifi example. */
export const domain = "wifi";
/** Slots read: ssid, ssid2, ... ssid<maxSlots>. */
export const maxSlots = 4;

function keyOf(name: string, slot: number): string {
  return slot === 1 ? name : name + slot;
}

function collect(read: (key: string) => unknown, into: AccessPoint[]): AccessPoint[] {
  for (let slot = 1; slot <= maxSlots; slot++) {
    const ssid = read(keyOf("ssid", slot));
    if (typeof ssid !== "string" || ssid === "") continue;
    let known = false;
    for (let i = 0; i < into.length; i++) if (into[i].ssid === ssid) known = true;
    if (known) continue;
    const password = read(keyOf("password", slot));
    const usable = typeof password === "string" || typeof password === "number";
    into.push(usable && password !== "" ? { ssid, password: String(password) } : { ssid });
  }
  return into;
}

/** Access points from `mc/config`. */
export function fromConfig(into: AccessPoint[] = []): AccessPoint[] {
  return collect((key) => config[key], into);
}

/** Access points from the "wifi" preference domain. */
export function fromPreference(into: AccessPoint[] = []): AccessPoint[] {
  return collect((key) => Preference.get(domain, key), into);
}

/** Preference entries first (the user's latest choice), then mc/config; each SSID once. */
export function loadAccessPoints(): AccessPoint[] {
  return fromConfig(fromPreference());
}

/** Stores credentials in preference slot `slot` (1 = "ssid"/"password"). ESP8266 keeps at most 62 bytes per value. */
export function saveAccessPoint(ap: AccessPoint, slot = 1): void {
  if (!(slot >= 1 && slot <= maxSlots)) throw new RangeError("saveAccessPoint: slot out of range");
  Preference.set(domain, keyOf("ssid", slot), ap.ssid);
  if (ap.password) Preference.set(domain, keyOf("password", slot), ap.password);
  else Preference.delete(domain, keyOf("password", slot));
}

/** Removes the credentials in preference slot `slot`. */
export function forgetAccessPoint(slot = 1): void {
  Preference.delete(domain, keyOf("ssid", slot));
  Preference.delete(domain, keyOf("password", slot));
}
