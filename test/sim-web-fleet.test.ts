// The dashboard's fleet view in a real headless Chromium against 20 simulated devices: counts and charts follow the
// fleet, the grid is coloured by state, a cell opens that device, whose toggle drives its LED alone (one Adafruit IO
// user per device), and the fleet's fault buttons act on every device.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startSimulation, type Simulation } from "../sim/run/runner.ts";
import { startWebDashboard, type WebDashboard } from "../sim/web/server.ts";
import { inPage, launchBrowser, waitText as waitTextIn } from "../sim/web/browser.ts";
import { until } from "./support/wait.ts";

const N = 20;
const LED_PIN = 2; // lit when low

let sim: Simulation;
let web: WebDashboard;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  sim = await startSimulation({ devices: N, interval: 1000 });
  web = await startWebDashboard(sim, { title: `${N} x ESP8266` });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await sim?.stop();
});

const waitText = (id: string, re: RegExp, timeout = 15_000) => waitTextIn(page, id, re, timeout);
const points = (id: string) => `Number(document.querySelector("#${id} svg")?.getAttribute("data-points"))`;
const reconnectsOf = (i: number) => sim.statusOf(i)?.reconnects ?? 0;
const allConnected = () => sim.devices.every((_, i) => sim.statusOf(i)?.mqtt === "connected");

describe("fleet view", () => {
  it("shows connected count, rates and latency over time, and a grid coloured by state", async () => {
    await page.goto(web.url);
    expect(await page.locator("#fleet").isVisible()).toBe(true);
    expect(await page.locator("#device").isVisible()).toBe(false);
    await waitText("f-connected", new RegExp(`^${N}/${N}$`));
    await inPage(page, `document.querySelectorAll("#grid a.s-c").length === ${N}`);
    expect(await page.locator("#grid a").count()).toBe(N);
    expect(await page.locator("#grid a").nth(3).getAttribute("title")).toBe("dev4: connected");
    await inPage(page, `Number(document.getElementById("f-mps").textContent) > 0`);
    await waitText("f-p99", /^\d+(\.\d)? ms$/);
    // The charts gain a point per second.
    const before = Number(await page.locator("#chart-connected svg").getAttribute("data-points"));
    await inPage(page, `${points("chart-connected")} >= ${before + 2} && ${points("chart-latency")} >= ${before + 2}`);
    expect(pageErrors).toEqual([]);
  });

  it("a grid cell opens its device; its toggle drives that device's LED only; faults act on it alone", async () => {
    await page.locator("#grid a").nth(5).click();
    await waitText("d-title", /^dev6 /);
    expect(await page.locator("#fleet").isVisible()).toBe(false);
    await waitText("mqtt-state", /^connected$/);
    expect(sim.devices[5].device.pins.level(LED_PIN)).toBe(1);

    await page.locator("#onoff").click();
    await until("dev6's LED lit", () => sim.devices[5].device.pins.level(LED_PIN) === 0, 5000);
    expect(sim.broker!.feed(sim.devices[5].username, "onoff")!.last!.value).toBe("ON");
    expect(sim.broker!.feed(sim.devices[0].username, "onoff")!.last!.value).toBe("OFF");
    expect(sim.devices[0].device.pins.level(LED_PIN)).toBe(1);
    await inPage(page, `document.getElementById("led").dataset.on === "true"`, 5000);

    const mine = reconnectsOf(5), other = reconnectsOf(0);
    await page.locator('[data-scope="device"] [data-fault="killTcp"]').click();
    await waitText("action", /TCP connections reset \(dev6\)/);
    await waitText("reconnects", new RegExp(`^${mine + 1}$`));
    expect(reconnectsOf(0)).toBe(other);

    await page.locator("#back").click();
    await inPage(page, `!document.getElementById("fleet").hidden`, 5000);
    expect(await page.locator("#device").isVisible()).toBe(false);
    expect(pageErrors).toEqual([]);
  });

  it("the fleet's Kill TCP resets every device, and the page sees them reconnect", async () => {
    await until("all devices connected", allConnected, 15_000);
    const total = sim.summary().reconnects;
    await page.locator('[data-scope="fleet"] [data-fault="killTcp"]').click();
    await waitText("action", /TCP connections reset \(all devices\)/);
    await until(`all ${N} devices reconnected`, () => sim.summary().reconnects >= total + N && allConnected(), 20_000);
    await inPage(page, `Number(document.getElementById("f-reconnects").textContent) >= ${total + N}`, 5000);
    await waitText("f-connected", new RegExp(`^${N}/${N}$`));
    expect(pageErrors).toEqual([]);
  }, 40_000);
});
