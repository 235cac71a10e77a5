// The dashboard's buttons, toggle and slider as actions on a simulation: the runner's faults, and feed writes made
// the way Adafruit IO's dashboard makes them. A fleet page acts on every device; a device page on its device.
import type { Simulation } from "../run/runner.ts";

export interface Control {
  action: "onoff" | "slider" | "dropWifi" | "killTcp" | "blackhole" | "latency" | "restartBroker";
  /** The device acted on; absent: all of them. */
  device?: number;
  /** onoff: "ON"/"OFF"; slider: 0..100; blackhole: true/false; latency: ms each way. */
  value?: unknown;
}

export class ControlError extends Error {}

const WIFI_DOWN_MS = 5000;
const BROKER_DOWN_MS = 2000;

/** Checks and applies one control; resolves with a sentence saying what was done (for the page's action line). */
export async function applyControl(sim: Simulation, c: Control): Promise<string> {
  const index = c.device;
  if (index !== undefined && !(Number.isInteger(index) && index >= 0 && index < sim.devices.length))
    throw new ControlError(`device ${String(index)}: expected 0..${sim.devices.length - 1}`);
  const who = index === undefined ? "all devices" : sim.devices[index].device.id;
  const f = sim.faults;
  switch (c.action) {
    case "onoff": {
      if (c.value !== "ON" && c.value !== "OFF") throw new ControlError('onoff: value must be "ON" or "OFF"');
      writeFeed(sim, "onoff", c.value, index);
      return `dashboard: onoff ${c.value}${index === undefined ? "" : ` (${sim.devices[index].username})`}`;
    }
    case "slider": {
      const v = Number(c.value);
      if (!(Number.isInteger(v) && v >= 0 && v <= 100)) throw new ControlError("slider: value must be a whole number 0..100");
      writeFeed(sim, "slider", String(v), index);
      return `dashboard: slider ${v}${index === undefined ? "" : ` (${sim.devices[index].username})`}`;
    }
    case "dropWifi":
      // One device of a fleet loses its station; otherwise the access point goes away, as the terminal's key does.
      if (index !== undefined && sim.devices.length > 1) { f.dropWifi(WIFI_DOWN_MS, index); return `Wi-Fi dropped on ${who}`; }
      f.dropWifi(WIFI_DOWN_MS);
      return `Wi-Fi access point gone for ${WIFI_DOWN_MS / 1000} s`;
    case "killTcp":
      f.killConnections(index);
      return `TCP connections reset (${who})`;
    case "blackhole": {
      if (typeof c.value !== "boolean") throw new ControlError("blackhole: value must be true or false");
      f.blackhole(c.value, index);
      return c.value ? `link blackholed (${who})` : `blackhole lifted (${who})`;
    }
    case "latency": {
      const ms = Number(c.value);
      if (!(Number.isFinite(ms) && ms >= 0 && ms <= 60_000)) throw new ControlError("latency: value must be 0..60000 ms");
      f.setLatency(ms, index);
      return `added latency ${ms} ms each way (${who})`;
    }
    case "restartBroker":
      if (!sim.localBroker) throw new ControlError("the broker is external: restart it yourself");
      await f.restartBroker(BROKER_DOWN_MS);
      return `broker restarted (down ${BROKER_DOWN_MS / 1000} s)`;
    default:
      throw new ControlError(`unknown action ${JSON.stringify((c as { action: unknown }).action)}`);
  }
}

/**
 * On the emulator a device page writes its own user's feed (a fleet has one user per device); otherwise, and on the
 * fleet page, the runner's dashboard writes every user's feed, keeping the terminal view's values in step.
 */
function writeFeed(sim: Simulation, key: "onoff" | "slider", value: string, index: number | undefined): void {
  if (index !== undefined && sim.broker && sim.devices.length > 1) {
    sim.broker.write(sim.devices[index].username, key, value);
    return;
  }
  // Through the runner's dashboard so the terminal view shows the same values; IO's dashboard publishes on every
  // click, even of the value the feed already has.
  const d = sim.dashboard, v = key === "slider" ? Number(value) : value;
  if (v === d[key]) d.write(key, value);
  else if (key === "onoff") d.toggleOnoff();
  else d.moveSlider(Number(value) - d.slider);
}
