// What the web dashboard shows, as plain JSON frames read from a running simulation: the fleet (counts, rates,
// latency, one state letter per device) and one device (its app status, network, LED pins, feed values, trace).
import type { Simulation, SimDevice } from "../run/runner.ts";
import type { Summary } from "../run/summary.ts";
import type { AppStatus } from "../../src/app/status.ts";

/** The feed charted per device: what the example app publishes. */
export const READING_FEED = "photocell";

/**
 * One letter per device for the fleet grid: n not started, x failed to start, w no Wi-Fi, m Wi-Fi but no MQTT,
 * c connected. The page colours them; a string of them is 1 byte per device on the wire.
 */
export function stateLetter(dev: SimDevice): string {
  const st = dev.app?.status;
  if (!st) return dev.startError ? "x" : "n";
  if (st.wifi !== "connected") return "w";
  return st.mqtt === "connected" ? "c" : "m";
}

export interface FleetFrame {
  /** Wall-clock ms when it was taken. */
  t: number;
  devices: number;
  started: number;
  wifi: number;
  connected: number;
  /** Readings arriving per second (published per second when arrivals are not tracked). */
  mps: number;
  p50: number | null;
  p99: number | null;
  published: number;
  arrived: number | null;
  reconnects: number;
  errors: number;
  queued: number;
  received: number;
  elapsedS: number;
  /** stateLetter() of every device, in order. */
  states: string;
}

export function fleetFrame(sim: Simulation, s: Summary, t = Date.now()): FleetFrame {
  let states = "";
  for (const dev of sim.devices) states += stateLetter(dev);
  return {
    t, devices: s.devices, started: s.started, wifi: s.wifiConnected, connected: s.connected, mps: round(s.messagesPerSecond),
    p50: s.latencyP50Ms === undefined ? null : round(s.latencyP50Ms), p99: s.latencyP99Ms === undefined ? null : round(s.latencyP99Ms),
    published: s.published, arrived: s.arrived ?? null, reconnects: s.reconnects, errors: s.errors, queued: s.queued,
    received: s.received, elapsedS: Math.round(s.elapsedS), states,
  };
}

export interface DeviceFrame {
  index: number;
  id: string;
  mac: string;
  user: string;
  clientId: string;
  state: string;
  startError: string | null;
  status: AppStatus | null;
  net: { linkUp: boolean; blackholed: boolean; latencyMs: number; sendWindow: number; bytesIn: number; bytesOut: number; connects: number };
  /** Output pins the app drives (the LED among them) and their levels. */
  outputs: Array<{ pin: number; level: 0 | 1 }>;
  /** The dashboard feeds' current values for this device's user. */
  onoff: string;
  slider: number;
  trace: string[];
}

export function deviceFrame(sim: Simulation, index: number): DeviceFrame {
  const dev = sim.devices[index];
  const d = dev.device, net = d.network;
  const outputs: DeviceFrame["outputs"] = [];
  for (const [pin, p] of d.pins.digital) if (p.writes > 0) outputs.push({ pin, level: p.level });
  outputs.sort((a, b) => a.pin - b.pin);
  const { onoff, slider } = feedValues(sim, index);
  return {
    index, id: d.id, mac: d.mac, user: dev.username, clientId: dev.clientId, state: stateLetter(dev),
    startError: dev.startError ?? null, status: dev.app ? { ...dev.app.status } : null,
    net: { linkUp: net.linkUp, blackholed: net.blackholed, latencyMs: net.latencyMs, sendWindow: net.sendWindow, bytesIn: net.bytesIn, bytesOut: net.bytesOut, connects: net.connects },
    outputs, onoff, slider, trace: [...dev.trace],
  };
}

/** The onoff and slider values a device's user has on the dashboard: the emulator's feeds, else the runner's dashboard. */
export function feedValues(sim: Simulation, index: number): { onoff: string; slider: number } {
  const user = sim.devices[index].username;
  const onoff = sim.broker?.feed(user, "onoff")?.last?.value ?? sim.dashboard.onoff;
  const slider = Number(sim.broker?.feed(user, "slider")?.last?.value ?? sim.dashboard.slider);
  return { onoff, slider: Number.isFinite(slider) ? slider : sim.dashboard.slider };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
