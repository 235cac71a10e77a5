// The Wi-Fi radio of one simulated device: station state (mode, associated AP, IP, RSSI, pending connect)
// driven by the device clock, with events posted to the `wifi` module's instances like the ESP8266 port does.
import type { Board, BoardRadio, DisconnectReason, RadioListener, RadioMessage, StationConfig } from "../../hosts/node/board.ts";
import { WiFiMode } from "../../hosts/shared/moddable-constants.ts";
import type { Airwaves, Station, VirtualAccessPoint } from "./airwaves.ts";
import type { NetworkConditions } from "./network.ts";

export type StationState = "idle" | "associating" | "associated" | "connected";

export class Radio implements BoardRadio, Station {
  /**
   * The access points this device hears; none: every connect fails as "not found". Once a device has airwaves,
   * its network link follows the DHCP lease, as on a board: no IP, no route for its sockets.
   */
  get air(): Airwaves | undefined { return this.airwaves; }
  set air(air: Airwaves | undefined) {
    this.airwaves = air;
    if (air) this.network.setLink(this.ip !== undefined);
  }
  private airwaves: Airwaves | undefined;
  /** WiFi.mode: 0 none, 1 station, 2 access point, 3 both. */
  mode: number = WiFiMode.station;
  state: StationState = "idle";
  /** The station configuration of the last WiFi.connect (like the ESP8266 keeps it). */
  config: StationConfig | undefined;
  /** The AP associated with now. */
  ap: VirtualAccessPoint | undefined;
  /** The DHCP lease; set only in state "connected". */
  ip: string | undefined;
  scanning = false;
  /** Soft-AP settings after WiFi.accessPoint. */
  softAP: { ssid: string; channel: number } | undefined;
  private readonly listeners = new Set<RadioListener>();
  private pending: unknown;
  private dropTimer: unknown;

  /** `board`: whose clock times the radio and whose code its listeners are. */
  constructor(private readonly board: Pick<Board, "clock" | "run">, private readonly network: NetworkConditions) {}

  addListener(listener: RadioListener): void {
    this.listeners.add(listener);
  }

  removeListener(listener: RadioListener): void {
    this.listeners.delete(listener);
  }

  /** Begins connecting to `config` (dropping any current association first, as WiFi.connect does). */
  connect(config: StationConfig): void {
    this.disconnect();
    this.mode = WiFiMode.station; // the ESP8266 port leaves soft-AP mode here
    this.softAP = undefined;
    this.config = config;
    this.state = "associating";
    const ap = this.air?.find(config.ssid, config.bssid);
    const delay = ap ? ap.associateMs : this.air?.notFoundMs ?? 2000;
    this.pending = this.board.clock.schedule(() => this.associate(), delay);
  }

  /** Leaves the AP (or abandons a pending connect). An association that ends posts "disconnect" (0). */
  disconnect(): void {
    this.cancelTimers();
    const wasAssociated = this.ap !== undefined;
    this.leave();
    this.state = "idle";
    if (wasAssociated) this.post("disconnect", 0);
  }

  /** Called by the airwaves when the AP goes away or kicks its stations. */
  dropped(): void {
    if (!this.ap) return;
    this.disconnect();
  }

  /** RSSI of the associated AP, live. */
  get rssi(): number | undefined {
    return this.ap?.rssi;
  }

  private associate(): void {
    this.pending = undefined;
    const config = this.config!;
    const ap = this.air?.find(config.ssid, config.bssid);
    if (!ap) return this.fail(0);
    if (!ap.accepts(config.password)) return this.fail(-1);
    this.ap = ap;
    ap.stations.add(this);
    this.state = "associated";
    this.post("connect");
    if (ap.dhcp) this.pending = this.board.clock.schedule(() => this.gotIP(), ap.dhcpMs);
    else this.pending = this.board.clock.schedule(() => this.dhcpTimeout(), this.air!.dhcpTimeoutMs);
  }

  private gotIP(): void {
    this.pending = undefined;
    const ap = this.ap!;
    this.ip = ap.lease();
    this.state = "connected";
    if (this.airwaves) this.network.setLink(true);
    this.post("gotIP");
    if (ap.dropAfterMs !== undefined) this.dropTimer = this.board.clock.schedule(() => this.dropped(), ap.dropAfterMs);
  }

  private dhcpTimeout(): void {
    // The ESP8266 reports EVENT_STAMODE_DHCP_TIMEOUT as "lostIP" and stays associated.
    this.pending = undefined;
    this.post("lostIP");
  }

  private fail(reason: DisconnectReason): void {
    this.state = "idle";
    this.post("disconnect", reason);
  }

  private leave(): void {
    this.ap?.stations.delete(this);
    this.ap = undefined;
    this.ip = undefined;
    if (this.airwaves) this.network.setLink(false);
  }

  private cancelTimers(): void {
    if (this.pending !== undefined) this.board.clock.cancel(this.pending);
    if (this.dropTimer !== undefined) this.board.clock.cancel(this.dropTimer);
    this.pending = this.dropTimer = undefined;
  }

  /** Events reach device code asynchronously, as a posted message does on the device. */
  private post(message: RadioMessage, value?: DisconnectReason): void {
    const listeners = [...this.listeners];
    this.board.clock.schedule(() => {
      for (const listener of listeners) if (this.listeners.has(listener)) this.board.run(() => listener(message, value));
    }, 0);
  }
}
