// The virtual access points one simulation's devices can hear, shared by all of them.
// Tests configure faults per AP (wrong password, no DHCP answer, weak signal, drop after N ms, outages).
import type { Clock, HeardAccessPoint } from "../../hosts/node/board.ts";
import { realClock } from "./clock.ts";

/** A radio associated with an access point: the AP drops it when it goes away. */
export interface Station {
  dropped(): void;
}

export interface AccessPointOptions {
  ssid: string;
  /** WPA2 passphrase; omitted or "" for an open network (which accepts any password). */
  password?: string;
  /** Signal strength in dBm as stations hear it (default -50). */
  rssi?: number;
  /** Channel 1..13 (default 1 + index % 11). */
  channel?: number;
  /** "AA:BB:CC:DD:EE:FF"; default derived from the SSID and index. */
  bssid?: string;
  /** Hidden APs appear in scans only with `{hidden: true}`, and then with an empty SSID. */
  hidden?: boolean;
  /** false: stations associate but never get an IP (the ESP8266 then reports lostIP after `dhcpTimeoutMs`). */
  dhcp?: boolean;
  /** false: out of range / switched off (default true). */
  available?: boolean;
  /** Each station is dropped this long after it got its IP. */
  dropAfterMs?: number;
  /** Time from WiFi.connect to "connect" (or to the "disconnect" that rejects a password). Default 1000. */
  associateMs?: number;
  /** Time from "connect" to "gotIP". Default 1000. */
  dhcpMs?: number;
}

export interface AirwavesOptions {
  /** Clock for airwave-level events such as the end of an outage (default: real time). */
  clock?: Clock;
  /** Below this RSSI a station cannot associate (default -90). */
  minRssi?: number;
  /** Below this RSSI an AP does not show in scans (default -100). */
  scanFloor?: number;
  /** Duration of a scan (default 2000, about what the ESP8266 takes). */
  scanMs?: number;
  /** Time until a connect to an SSID nobody answers fails with "disconnect" (default 2000). */
  notFoundMs?: number;
  /** Time from "connect" to "lostIP" when the AP gives no DHCP answer (default 10000). */
  dhcpTimeoutMs?: number;
}

export class VirtualAccessPoint implements HeardAccessPoint {
  ssid: string;
  password: string;
  rssi: number;
  channel: number;
  bssid: string;
  hidden: boolean;
  dhcp: boolean;
  available: boolean;
  dropAfterMs: number | undefined;
  associateMs: number;
  dhcpMs: number;
  /** Stations associated now. */
  readonly stations = new Set<Station>();
  /** Third octet of this AP's 192.168.x.0/24 network. */
  readonly subnet: number;
  private nextHost = 100;

  constructor(options: AccessPointOptions, index: number) {
    this.ssid = options.ssid;
    this.password = options.password ?? "";
    this.rssi = options.rssi ?? -50;
    this.channel = options.channel ?? 1 + (index % 11);
    this.bssid = options.bssid ?? bssidFor(options.ssid, index);
    this.hidden = options.hidden ?? false;
    this.dhcp = options.dhcp ?? true;
    this.available = options.available ?? true;
    this.dropAfterMs = options.dropAfterMs;
    this.associateMs = options.associateMs ?? 1000;
    this.dhcpMs = options.dhcpMs ?? 1000;
    this.subnet = 10 + index;
  }

  get gateway(): string {
    return `192.168.${this.subnet}.1`;
  }

  /** A fresh lease for a station. */
  lease(): string {
    const host = this.nextHost++;
    if (this.nextHost > 254) this.nextHost = 100;
    return `192.168.${this.subnet}.${host}`;
  }

  /** Whether `password` opens this AP. */
  accepts(password: string | undefined): boolean {
    return this.password === "" || this.password === (password ?? "");
  }
}

export class Airwaves {
  readonly accessPoints: VirtualAccessPoint[] = [];
  readonly clock: Clock;
  minRssi: number;
  scanFloor: number;
  scanMs: number;
  notFoundMs: number;
  dhcpTimeoutMs: number;

  constructor(accessPoints: AccessPointOptions[] = [], options: AirwavesOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.minRssi = options.minRssi ?? -90;
    this.scanFloor = options.scanFloor ?? -100;
    this.scanMs = options.scanMs ?? 2000;
    this.notFoundMs = options.notFoundMs ?? 2000;
    this.dhcpTimeoutMs = options.dhcpTimeoutMs ?? 10000;
    for (const ap of accessPoints) this.add(ap);
  }

  add(options: AccessPointOptions): VirtualAccessPoint {
    const ap = new VirtualAccessPoint(options, this.accessPoints.length);
    this.accessPoints.push(ap);
    return ap;
  }

  /** The AP with this SSID (the first, if several share it). */
  get(ssid: string): VirtualAccessPoint | undefined {
    return this.accessPoints.find((ap) => ap.ssid === ssid);
  }

  /** The AP a station asking for `ssid` (and maybe `bssid`) would associate with: the strongest match in range. */
  find(ssid: string, bssid?: string): VirtualAccessPoint | undefined {
    let best: VirtualAccessPoint | undefined;
    for (const ap of this.accessPoints) {
      if (!ap.available || ap.ssid !== ssid || ap.rssi < this.minRssi) continue;
      if (bssid !== undefined && ap.bssid !== bssid.toUpperCase()) continue;
      if (!best || ap.rssi > best.rssi) best = ap;
    }
    return best;
  }

  /** APs a scan would report now. */
  visible(includeHidden = false, channel?: number): VirtualAccessPoint[] {
    return this.accessPoints.filter((ap) => ap.available && ap.rssi >= this.scanFloor && (includeHidden || !ap.hidden) && (channel === undefined || ap.channel === channel));
  }

  /** Switches the AP on (or brings it back in range). */
  appear(ssid: string): void {
    this.must(ssid).available = true;
  }

  /** Switches the AP off: its stations get "disconnect". With `forMs`, it comes back after that long. */
  disappear(ssid: string, forMs?: number): void {
    const ap = this.must(ssid);
    ap.available = false;
    this.dropStations(ap);
    if (forMs !== undefined) this.clock.schedule(() => { ap.available = true; }, forMs);
  }

  /** Changes the signal strength; stations drop when it falls below `minRssi`. */
  setRssi(ssid: string, rssi: number): void {
    const ap = this.must(ssid);
    ap.rssi = rssi;
    if (rssi < this.minRssi) this.dropStations(ap);
  }

  /** Drops every station of one AP (or of all APs); the APs stay up, so stations may reconnect. */
  drop(ssid?: string): void {
    for (const ap of this.accessPoints) if (ssid === undefined || ap.ssid === ssid) this.dropStations(ap);
  }

  private dropStations(ap: VirtualAccessPoint): void {
    for (const station of [...ap.stations]) station.dropped();
  }

  private must(ssid: string): VirtualAccessPoint {
    const ap = this.get(ssid);
    if (!ap) throw new Error(`Airwaves: no access point "${ssid}"`);
    return ap;
  }
}

function bssidFor(ssid: string, index: number): string {
  let h = 2166136261;
  for (let i = 0; i < ssid.length; i++) h = Math.imul(h ^ ssid.charCodeAt(i), 16777619) >>> 0;
  const bytes = [0x02, (h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255, index & 255];
  return bytes.map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}
