// Keeps a station connected: tries the access points in order (or strongest first after a scan), one timeout per
// attempt, exponential backoff with jitter between failed rounds, reconnects when the link drops, reports events.
import WiFi from "wifi";
import Net from "net";
import Timer from "timer";
import { Backoff, seedFrom } from "../net/backoff";
import { type AccessPoint, loadAccessPoints } from "./credentials";
import type { Link, LinkListener } from "./link";
import { NEVER } from "../net/timer-repeat";

export type { AccessPoint } from "./credentials";

export interface WiFiManagerOptions {
  /** Access points to try, in order. Default: preference domain "wifi", then mc/config (ssid/password, ssid2/...). */
  accessPoints?: AccessPoint[];
  /** Longest wait for an IP after WiFi.connect, in ms (default 15000). */
  attemptTimeout?: number;
  /** Pause after a disconnect before the next attempt, so the radio's late events are not taken for the next AP (default 250). */
  settle?: number;
  /** Delay between failed rounds (default min 2000, max 60000, factor 2, jitter 0.5). */
  backoff?: { min?: number; max?: number; factor?: number; jitter?: number };
  /** After this many failed rounds in a row, report `gaveUp` (default 5; 0: never). */
  maxRounds?: number;
  /** After `gaveUp`: true (default) keeps retrying on the backoff, which grows to its max; false stops (state "stopped"). */
  keepTrying?: boolean;
  /** Scan before each round and try the strongest configured APs first (unseen ones last). */
  scan?: boolean;
  /** Jitter seed; default derived from the MAC so devices do not retry in step. */
  seed?: number;
  /** trace() progress (SSIDs and IPs, never passwords). */
  trace?: boolean;
}

/**
 * What the manager reports, as named fields. One object is reused for every event: copy what you keep.
 * connecting: index, ssid · connected: ip, ssid, rssi · failed: ssid, reason · lost: ssid ·
 * waiting: delay, rounds · gaveUp: rounds. Fields an event does not carry are undefined (numbers -1).
 * `reason` is "password" (rejected), "disconnected" (not found or refused), "noIP" (no DHCP answer),
 * "timeout" or "invalid" (an SSID the radio refuses).
 */
export class WiFiManagerEvent {
  /** WiFiManager.connecting, connected, failed, lost, waiting or gaveUp. */
  type = 0;
  /** Position of the access point in `accessPoints`. */
  index = -1;
  ssid: string | undefined = undefined;
  ip: string | undefined = undefined;
  rssi: number | undefined = undefined;
  reason: string | undefined = undefined;
  /** ms until the next round. */
  delay = -1;
  /** Rounds over all access points that failed in a row. */
  rounds = -1;
}

export type WiFiManagerCallback = (this: WiFiManager, event: WiFiManagerEvent) => void;

export type WiFiManagerState = "idle" | "scanning" | "connecting" | "connected" | "waiting" | "stopped" | "closed";

// What the timer does when it fires.
const stepRound = 1;
const stepNext = 2;
const stepTimeout = 3;
const stepScanTimeout = 4;
const stepAdopt = 5;

const unseen = -1000;

export default class WiFiManager implements Link {
  static readonly connecting = 1;
  static readonly connected = 2;
  static readonly failed = 3;
  static readonly lost = 4;
  static readonly waiting = 5;
  static readonly gaveUp = 6;

  callback: WiFiManagerCallback | undefined;
  readonly accessPoints: readonly AccessPoint[];

  #state: WiFiManagerState = "idle";
  #attemptTimeout: number;
  #settle: number;
  #maxRounds: number;
  #keepTrying: boolean;
  #scan: boolean;
  #trace: boolean;
  #backoff: Backoff;
  #timer: Timer;
  #step = 0;
  #wifi: WiFi | undefined;
  /** Order of AP indexes for this round, and how far we are in it. */
  #order: number[];
  #position = 0;
  /** Best RSSI per AP heard in this round's scan. */
  #rssi: number[];
  #current = -1;
  /** The AP that worked last: first in the next round (when not scanning). */
  #preferred = -1;
  #rounds = 0;
  #listeners: LinkListener[] = [];
  readonly #news = new WiFiManagerEvent();
  #onScanItem: (item: { ssid: string; rssi: number } | null) => void;

  constructor(options: WiFiManagerOptions = {}, callback?: WiFiManagerCallback) {
    const list = options.accessPoints ?? loadAccessPoints();
    if (!list.length) throw new Error("WiFiManager: no access points (options.accessPoints, preference wifi/ssid or mc/config ssid)");
    for (let i = 0; i < list.length; i++) if (typeof list[i].ssid !== "string" || !list[i].ssid) throw new Error("WiFiManager: access point without ssid");
    this.accessPoints = list.slice();
    this.#attemptTimeout = options.attemptTimeout ?? 15000;
    this.#settle = options.settle ?? 250;
    this.#maxRounds = options.maxRounds ?? 5;
    this.#keepTrying = options.keepTrying ?? true;
    this.#scan = !!options.scan;
    this.#trace = !!options.trace;
    if (!(this.#attemptTimeout > 0) || !(this.#settle >= 0) || !(this.#maxRounds >= 0)) throw new RangeError("WiFiManager: need attemptTimeout > 0, settle >= 0, maxRounds >= 0");
    const b = options.backoff ?? {};
    this.#backoff = new Backoff({ min: b.min ?? 2000, max: b.max ?? 60000, factor: b.factor, jitter: b.jitter, seed: options.seed ?? seedFrom(Net.get("MAC") ?? "") });
    this.#order = new Array<number>(list.length);
    this.#rssi = new Array<number>(list.length);
    // Host callbacks (scan, timer, wifi): an exception escaping one aborts the VM on a device.
    this.#onScanItem = (item) => { try { this.#scanned(item); } catch (e) { fault(e); } };
    this.callback = callback;
    this.#timer = Timer.repeat(() => { try { this.#fire(); } catch (e) { fault(e); } }, NEVER);
    Timer.schedule(this.#timer);
    this.start();
  }

  /** Starts (again, after "stopped"); the constructor calls it. The first attempt follows asynchronously. */
  start(): void {
    if (this.#state === "closed") throw new Error("WiFiManager: closed");
    if (this.#state !== "idle" && this.#state !== "stopped") return;
    // Station mode is needed to scan; compare values (ESP32's Mode.off is -5, which has the station bit set).
    const mode = WiFi.mode;
    if (mode !== WiFi.Mode.station && mode !== (WiFi.Mode.station | WiFi.Mode.accessPoint)) WiFi.mode = WiFi.Mode.station;
    this.#wifi ??= new WiFi(undefined, (message: string, value?: number) => { try { this.#event(message, value); } catch (e) { fault(e); } });
    this.#rounds = 0;
    this.#backoff.reset();
    // Already online with one of our APs (e.g. Moddable's setup/network connected before main): adopt that link.
    const ssid = Net.get("IP") === undefined ? undefined : Net.get("SSID");
    for (let i = 0; i < this.accessPoints.length; i++) {
      if (this.accessPoints[i].ssid === ssid) {
        this.#current = i;
        return this.#wait(stepAdopt, 0);
      }
    }
    // Otherwise leave whatever the station was doing before the first round.
    WiFi.disconnect();
    this.#wait(stepRound, this.#settle);
  }

  /** Stops managing and reporting; the station stays as it is (like WiFi's close). */
  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    Timer.clear(this.#timer);
    this.#wifi?.close();
    this.#wifi = undefined;
    this.#listeners.length = 0;
  }

  get state(): WiFiManagerState {
    return this.#state;
  }

  /** The station's IP while connected. */
  get ip(): string | undefined {
    return this.#state === "connected" ? Net.get("IP") : undefined;
  }

  /** The SSID connected to, or being tried. */
  get ssid(): string | undefined {
    return (this.#state === "connected" || this.#state === "connecting") && this.#current >= 0 ? this.accessPoints[this.#current].ssid : undefined;
  }

  get rssi(): number | undefined {
    return this.#state === "connected" ? Net.get("RSSI") : undefined;
  }

  /** Failed rounds since the last connection. */
  get rounds(): number {
    return this.#rounds;
  }

  get linkUp(): boolean {
    return this.#state === "connected";
  }

  addLinkListener(listener: LinkListener): void {
    if (this.#listeners.indexOf(listener) < 0) this.#listeners.push(listener);
  }

  removeLinkListener(listener: LinkListener): void {
    const i = this.#listeners.indexOf(listener);
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  #fire(): void {
    Timer.schedule(this.#timer); // park; a step below may schedule it again
    const step = this.#step;
    this.#step = 0;
    if (step === stepRound) this.#beginRound();
    else if (step === stepNext) this.#tryNext();
    else if (step === stepTimeout && this.#state === "connecting") this.#failed("timeout");
    else if (step === stepScanTimeout && this.#state === "scanning") this.#orderAndTry();
    else if (step === stepAdopt) {
      if (Net.get("IP") !== undefined) this.#connected();
      else this.#beginRound();
    }
  }

  #wait(step: number, ms: number): void {
    if (step !== stepTimeout && step !== stepScanTimeout) this.#state = "waiting";
    this.#step = step;
    Timer.schedule(this.#timer, ms, NEVER);
  }

  #beginRound(): void {
    this.#position = 0;
    if (!this.#scan) return this.#orderAndTry();
    for (let i = 0; i < this.#rssi.length; i++) this.#rssi[i] = unseen;
    try {
      WiFi.scan({}, this.#onScanItem);
    } catch {
      return this.#orderAndTry(); // a scan still running: go by list order this round
    }
    this.#state = "scanning";
    if (this.#trace) trace("WiFi: scanning\n");
    this.#wait(stepScanTimeout, this.#attemptTimeout);
  }

  #scanned(item: { ssid: string; rssi: number } | null): void {
    if (this.#state !== "scanning") return;
    if (item === null) return this.#orderAndTry();
    for (let i = 0; i < this.accessPoints.length; i++)
      if (this.accessPoints[i].ssid === item.ssid && item.rssi > this.#rssi[i]) this.#rssi[i] = item.rssi;
  }

  #orderAndTry(): void {
    const order = this.#order;
    let n = 0;
    if (!this.#scan && this.#preferred >= 0) order[n++] = this.#preferred;
    for (let i = 0; i < order.length; i++) if (this.#scan || i !== this.#preferred) order[n++] = i;
    if (this.#scan) {
      // Stable insertion sort, strongest first; unseen APs keep list order at the end.
      const rssi = this.#rssi;
      for (let i = 1; i < n; i++) {
        const v = order[i];
        let j = i - 1;
        while (j >= 0 && rssi[order[j]] < rssi[v]) {
          order[j + 1] = order[j];
          j--;
        }
        order[j + 1] = v;
      }
    }
    this.#position = 0;
    this.#tryNext();
  }

  #tryNext(): void {
    if (this.#position >= this.#order.length) return this.#roundFailed();
    const index = this.#order[this.#position++];
    const ap = this.accessPoints[index];
    this.#current = index;
    this.#state = "connecting";
    if (this.#trace) trace(`WiFi: connecting to "${ap.ssid}"\n`);
    try {
      WiFi.connect(ap.password ? { ssid: ap.ssid, password: ap.password } : { ssid: ap.ssid });
    } catch {
      return this.#failed("invalid"); // e.g. an SSID over 32 bytes
    }
    this.#wait(stepTimeout, this.#attemptTimeout);
    const e = this.#reset(WiFiManager.connecting);
    e.index = index;
    e.ssid = ap.ssid;
    this.#emit();
  }

  #event(message: string, value?: number): void {
    if (this.#state === "connecting") {
      if (message === WiFi.gotIP) this.#connected();
      else if (message === WiFi.disconnected) this.#failed(value === -1 ? "password" : "disconnected");
      else if (message === WiFi.lostIP) this.#failed("noIP");
    } else if (this.#state === "connected") {
      if (message === WiFi.disconnected || message === WiFi.lostIP) this.#lost();
    }
    // Other states: late events of an attempt already given up; ignore.
  }

  #connected(): void {
    Timer.schedule(this.#timer);
    this.#step = 0;
    this.#state = "connected";
    this.#rounds = 0;
    this.#backoff.reset();
    this.#preferred = this.#current;
    const ip = Net.get("IP");
    const ssid = this.accessPoints[this.#current].ssid;
    const rssi = Net.get("RSSI");
    if (this.#trace) trace(`WiFi: connected to "${ssid}", IP ${ip}\n`);
    this.#notify(true);
    if (this.#state !== "connected") return;
    const e = this.#reset(WiFiManager.connected);
    e.index = this.#current;
    e.ssid = ssid;
    e.ip = ip;
    e.rssi = rssi;
    this.#emit();
  }

  #failed(reason: string): void {
    const ssid = this.accessPoints[this.#current].ssid;
    if (this.#trace) trace(`WiFi: "${ssid}" failed: ${reason}\n`);
    WiFi.disconnect();
    this.#wait(stepNext, this.#settle);
    const e = this.#reset(WiFiManager.failed);
    e.index = this.#current;
    e.ssid = ssid;
    e.reason = reason;
    this.#emit();
  }

  #lost(): void {
    const ssid = this.accessPoints[this.#current].ssid;
    if (this.#trace) trace(`WiFi: lost "${ssid}"\n`);
    WiFi.disconnect();
    this.#rounds = 0;
    this.#backoff.reset();
    this.#wait(stepRound, this.#settle);
    this.#notify(false);
    if (this.#state !== "waiting") return;
    const e = this.#reset(WiFiManager.lost);
    e.index = this.#current;
    e.ssid = ssid;
    this.#emit();
  }

  #roundFailed(): void {
    this.#rounds++;
    if (this.#maxRounds > 0 && this.#rounds === this.#maxRounds) {
      if (this.#trace) trace(`WiFi: gave up after ${this.#rounds} rounds\n`);
      if (!this.#keepTrying) {
        this.#state = "stopped";
        this.#reset(WiFiManager.gaveUp).rounds = this.#rounds;
        this.#emit();
        return;
      }
      this.#reset(WiFiManager.gaveUp).rounds = this.#rounds;
      this.#emit();
      if (this.#state === "closed" || this.#state === "stopped") return;
    }
    const delay = this.#backoff.next();
    if (this.#trace) trace(`WiFi: next round in ${delay} ms\n`);
    this.#wait(stepRound, delay);
    const e = this.#reset(WiFiManager.waiting);
    e.delay = delay;
    e.rounds = this.#rounds;
    this.#emit();
  }

  #reset(type: number): WiFiManagerEvent {
    const e = this.#news;
    e.type = type;
    e.index = e.delay = e.rounds = -1;
    e.ssid = e.ip = e.reason = undefined;
    e.rssi = undefined;
    return e;
  }

  /** Calls the callback with the event #reset filled in; this runs in host callbacks, so nothing escapes. */
  #emit(): void {
    const callback = this.callback;
    if (!callback || this.#state === "closed") return;
    try {
      callback.call(this, this.#news);
    } catch (e) {
      trace(`WiFiManager: the callback threw: ${(e as Error)?.message ?? e}\n`);
    }
  }

  #notify(up: boolean): void {
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i](up);
      } catch (e) {
        trace(`WiFiManager: a link listener threw: ${(e as Error)?.message ?? e}\n`);
      }
    }
  }
}

function fault(e: unknown): void {
  trace(`WiFiManager: ${(e as Error)?.message ?? e}\n`);
}
