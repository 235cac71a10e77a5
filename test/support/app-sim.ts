// Shared set-up for the app and Wi-Fi+MQTT scenarios: one VirtualClock for a simulated device, its access
// points and the Adafruit IO emulator; the device's network link follows its radio's IP (as on a board).
import { startAioBroker, type AioBroker, type AioBrokerOptions } from "../../sim/aio/broker.ts";
import { VirtualClock } from "../../sim/board/clock.ts";
import type { AccessPointOptions } from "../../sim/board/airwaves.ts";
import type { DeviceOptions } from "../../sim/board/device.ts";
import { simulate, type Sim } from "./wifi-fixture.ts";

export interface World extends Sim {
  broker: AioBroker;
  /** Advances simulated time in `step` ms slices, letting real socket I/O run after each. */
  pass(ms: number, step?: number): Promise<void>;
  /** Advances until `check()` holds, at most `limitMs` of simulated time. */
  passUntil(what: string, check: () => boolean, limitMs?: number, step?: number): Promise<void>;
  close(): Promise<void>;
}

/** A short real pause: long enough for loopback socket I/O to be polled. */
const turn = () => new Promise<void>((r) => setTimeout(r, 1));

export async function world(accessPoints: AccessPointOptions[], device: Omit<DeviceOptions, "clock" | "trace">, broker: Partial<AioBrokerOptions> = {}): Promise<World> {
  const clock = new VirtualClock();
  const aio = await startAioBroker({ users: {}, clock, epochMs: Date.UTC(2024, 0, 1), ...broker });
  const sim = simulate(accessPoints, device, {}, clock);
  // No IP, no route: sockets fail fast and open connections freeze, like lwip without a station interface.
  const network = sim.device.network;
  network.setLink(false);
  sim.device.radio.addListener((message) => {
    if (message === "gotIP") network.setLink(true);
    else if (message === "disconnect" || message === "lostIP") network.setLink(false);
  });
  const pass = async (ms: number, step = 50) => {
    for (let t = 0; t < ms; t += step) {
      clock.advance(Math.min(step, ms - t));
      await turn();
    }
  };
  const passUntil = async (what: string, check: () => boolean, limitMs = 60_000, step = 50) => {
    for (let t = 0; !check(); t += step) {
      if (t >= limitMs) throw new Error(`not within ${limitMs} simulated ms: ${what}`);
      await pass(step, step);
    }
  };
  return { ...sim, broker: aio, pass, passUntil, close: () => aio.close() };
}
