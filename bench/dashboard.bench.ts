// The web dashboard holding a fleet (default 1,000 devices, one reading per device per second on the local Adafruit
// IO emulator), measured inside headless Chromium: frame intervals and long tasks while the fleet view updates, time
// from a click on a grid cell to that device's panel, from a click on its onoff toggle to its LED shown on (through
// the server, the emulator, the device's MQTT client and back), and the server's event-loop delay meanwhile.
// `node bin/run-ts.js bench/index.ts dashboard` (DASHBOARD_DEVICES, DASHBOARD_SECONDS to change the load).
import { monitorEventLoopDelay } from "node:perf_hooks";
import { startSimulation } from "../sim/run/runner.ts";
import { startWebDashboard } from "../sim/web/server.ts";
import { fileURLToPath } from "node:url";
import { inPage, launchBrowser, waitText } from "../sim/web/browser.ts";
import type { Figures } from "./index.ts";

const DEVICES = Number(process.env.DASHBOARD_DEVICES ?? 1000);
const SECONDS = Number(process.env.DASHBOARD_SECONDS ?? 15);
const CLICKS = 8;
const log = (text: string) => process.stderr.write(`  dashboard: ${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export default async function dashboardBench(): Promise<Figures> {
  const sim = await startSimulation({ devices: DEVICES, interval: 1000 });
  const web = await startWebDashboard(sim, { title: `${DEVICES} x ESP8266` });
  const browser = await launchBrowser();
  try {
    const deadline = performance.now() + 90_000;
    while (sim.summary().connected < DEVICES) {
      if (performance.now() > deadline) throw new Error(`only ${sim.summary().connected}/${DEVICES} connected within 90 s`);
      await sleep(250);
    }
    log(`${DEVICES} devices connected; opening ${web.url}`);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript({ path: fileURLToPath(new URL("./support/dashboard-probe.js", import.meta.url)) });
    await page.goto(web.url);
    await inPage(page, `document.querySelectorAll("#grid a.s-c").length === ${DEVICES}`, 30_000);

    // Frames and long tasks while the fleet view takes its updates.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const watch = (await page.evaluate(`probe.watch(${SECONDS})`)) as { frames: number[]; long: number; longMs: number; fleetEvents: number; spent: { events: number; eventMs: number; draws: number; drawMs: number } };
    loop.disable();
    const w = watch.spent;
    log(`${watch.frames.length} frames in ${SECONDS} s, ${watch.long} long tasks (${Math.round(watch.longMs)} ms), ${watch.fleetEvents} fleet frames; ` +
      `page work ${w.events} events ${w.eventMs.toFixed(1)} ms, ${w.draws} chart draws ${w.drawMs.toFixed(1)} ms`);

    // Click a grid cell -> its device panel; click its toggle -> LED on, then off; back to the fleet.
    const open: number[] = [], toggle: number[] = [];
    for (let k = 0; k < CLICKS; k++) {
      const index = Math.floor(((k + 0.5) * DEVICES) / CLICKS);
      open.push((await page.evaluate(`probe.openDevice(${index})`)) as number);
      await waitText(page, "mqtt-state", /^connected$/);
      for (const on of [true, false]) toggle.push((await page.evaluate(`probe.toggle(${on})`)) as number);
      await page.evaluate(`location.hash = ""`);
      await inPage(page, `!document.getElementById("fleet").hidden && document.querySelectorAll("#grid a").length === ${DEVICES}`);
    }
    log(`open device ms ${open.map((v) => v.toFixed(0)).join(" ")}; toggle->LED ms ${toggle.map((v) => v.toFixed(0)).join(" ")}`);

    const f = watch.frames;
    const note = `${DEVICES} devices, 1 reading/s each, headless Chromium`;
    return {
      "dashboard.devices": { value: DEVICES, unit: "devices", note: `${sim.summary().connected} connected at the end` },
      "dashboard.frame_ms.p50": { value: percentile(f, 50), unit: "ms", note },
      "dashboard.frame_ms.p99": { value: percentile(f, 99), unit: "ms", note },
      "dashboard.frame_ms.max": { value: Math.max(...f), unit: "ms", note },
      "dashboard.page_work_ms_per_s": { value: (w.eventMs + w.drawMs) / SECONDS, unit: "ms/s", note: `the page's own scripting: ${w.events} events handled, ${w.draws} chart draws in ${SECONDS} s` },
      "dashboard.long_tasks": { value: watch.long, unit: `tasks > 50 ms in ${SECONDS} s`, note: `${Math.round(watch.longMs)} ms in all` },
      "dashboard.open_device_ms.p50": { value: percentile(open, 50), unit: "ms", note: "click on a grid cell to its panel shown" },
      "dashboard.open_device_ms.max": { value: Math.max(...open), unit: "ms" },
      "dashboard.toggle_to_led_ms.p50": { value: percentile(toggle, 50), unit: "ms", note: "click on onoff to the LED shown: server, emulator, device MQTT and back" },
      "dashboard.toggle_to_led_ms.max": { value: Math.max(...toggle), unit: "ms" },
      "dashboard.server_loop_delay_ms.p99": { value: loop.percentile(99) / 1e6, unit: "ms", note: "simulation and dashboard server in one Node process" },
    };
  } finally {
    await browser.close();
    await web.close();
    await sim.stop();
  }
}
