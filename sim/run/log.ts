// Plain, timestamped log lines for `xsmq sim` without a terminal (CI, pipes): the devices' trace output,
// state changes seen in their AppStatus, and for a fleet a progress line, then a summary line every few seconds.
import type { AppStatus } from "../../src/app/status.ts";
import type { Simulation, SimDevice } from "./runner.ts";
import { fleetLine, progressBar } from "./summary.ts";

export type Write = (line: string) => void;

/** `HH:MM:SS.mmm` local time. */
export function timestamp(date = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds(), 3)}`;
}

/** Devices whose every trace line and state change is logged; a bigger fleet is summarised instead. */
const VERBOSE_DEVICES = 4;

export class SimLog {
  private readonly last: Array<Partial<AppStatus>>;
  private timer: NodeJS.Timeout | undefined;
  private lastFleetLine = 0;

  constructor(private readonly sim: Simulation, private readonly write: Write) {
    this.last = sim.devices.map(() => ({}));
  }

  /** The line for one device trace line (pass as the runner's onTrace, or call it). */
  trace(device: SimDevice, line: string): void {
    if (this.sim.devices.length <= VERBOSE_DEVICES) this.line(`${device.device.id} | ${line}`);
  }

  line(text: string): void {
    this.write(`${timestamp()} ${text}`);
  }

  start(): void {
    this.timer = setInterval(() => this.poll(), 200);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.poll();
  }

  private poll(): void {
    const devices = this.sim.devices;
    if (devices.length <= VERBOSE_DEVICES) {
      for (const sim of devices) {
        const st = sim.app?.status;
        if (st) this.changes(sim, st, this.last[sim.index]);
      }
      return;
    }
    const now = Date.now();
    const s = this.sim.summary();
    const connecting = s.connected < s.devices && s.elapsedS < 60;
    if (now - this.lastFleetLine >= (connecting ? 1000 : 5000)) {
      this.lastFleetLine = now;
      this.line(connecting ? `connecting ${progressBar(s.connected, s.devices)} (wifi ${s.wifiConnected})` : fleetLine(s));
    }
  }

  /** Logs what changed in one device's status since the last poll. */
  private changes(sim: SimDevice, st: AppStatus, last: Partial<AppStatus>): void {
    const id = sim.device.id;
    if (st.wifi !== last.wifi || st.ip !== last.ip) this.line(`${id} wifi ${st.wifi}${st.ip ? ` ip ${st.ip}` : ""}${st.ssid ? ` ssid ${st.ssid}` : ""}`);
    if (st.mqtt !== last.mqtt) this.line(`${id} mqtt ${st.mqtt}${st.reconnects ? ` (reconnects ${st.reconnects})` : ""}`);
    if (st.published !== last.published && st.published > 0) this.line(`${id} published reading ${st.lastReading} (published ${st.published}, delivered ${st.delivered}, queued ${st.queued})`);
    if (st.led !== last.led && last.led !== undefined) this.line(`${id} onoff -> LED ${st.led ? "on" : "off"}`);
    if (st.slider !== last.slider && st.slider !== undefined) this.line(`${id} slider ${st.slider}`);
    if (st.errors !== last.errors && st.errors > 0) this.line(`${id} error ${st.lastError ?? ""} (errors ${st.errors})`);
    last.wifi = st.wifi; last.ip = st.ip; last.mqtt = st.mqtt; last.published = st.published;
    last.led = st.led; last.slider = st.slider; last.errors = st.errors;
  }
}
