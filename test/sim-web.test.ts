// The web dashboard of `xsmq sim --web` against a running simulation of the example app: the Adafruit IO HTTP API
// on the local emulator (read, write, key checked), the control endpoint, and the page in a real headless Chromium
// (chart grows, the toggle drives the simulated LED, the slider reaches the app, fault buttons cause reconnects).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { request } from "node:http";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { startSimulation, type Simulation } from "../sim/run/runner.ts";
import { startWebDashboard, type WebDashboard } from "../sim/web/server.ts";
import { inPage, launchBrowser, waitText as waitTextIn } from "../sim/web/browser.ts";
import { until } from "./support/wait.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const USER = "xsmq-demo", KEY = "aio_web_test_key";
const LED_PIN = 2; // the example app's default LED: GPIO2, lit when low

let sim: Simulation;
let web: WebDashboard;

beforeAll(async () => {
  sim = await startSimulation({ interval: 400, key: KEY, username: USER });
  web = await startWebDashboard(sim, { title: "ESP8266 running src/app/main.ts" });
  await until("the device connected", () => sim.statusOf(0)?.mqtt === "connected", 15_000);
});

afterAll(async () => {
  await web?.close();
  await sim?.stop();
});

/** fetch() on the dashboard's port, the key sent unless told otherwise. */
function api(path: string, init: RequestInit & { key?: string | null } = {}) {
  const headers = new Headers(init.headers);
  const key = init.key === undefined ? KEY : init.key;
  if (key !== null) headers.set("X-AIO-Key", key);
  return fetch(new URL(path, web.url), { ...init, headers });
}

describe("Adafruit IO HTTP API on the emulator", () => {
  it("lists the user's feeds and their data, newest first, with IO's pagination headers", async () => {
    await until("3 photocell readings stored", () => (sim.broker!.feed(USER, "photocell")?.history.length ?? 0) >= 3, 10_000);
    const feeds = await api(`/api/v2/${USER}/feeds`);
    expect(feeds.status).toBe(200);
    const list = (await feeds.json()) as Array<{ key: string; last_value: string; id: number }>;
    expect(list.map((f) => f.key)).toEqual(["onoff", "photocell", "slider"]);
    expect(list.find((f) => f.key === "slider")!.last_value).toBe("50");

    const res = await api(`/api/v2/${USER}/feeds/photocell/data?limit=2`);
    expect(res.status).toBe(200);
    const history = sim.broker!.feed(USER, "photocell")!.history;
    const data = (await res.json()) as Array<{ id: string; value: string; feed_key: string; created_at: string; created_epoch: number; feed_id: number }>;
    expect(data).toHaveLength(2);
    expect(Number(data[0].id)).toBeGreaterThan(Number(data[1].id));
    const stored = history.find((p) => p.id === data[0].id)!;
    expect(data[0]).toMatchObject({ value: stored.value, feed_key: "photocell", created_at: new Date(stored.at).toISOString(), created_epoch: Math.floor(stored.at / 1000) });
    expect(data[0].feed_id).toBe(list.find((f) => f.key === "photocell")!.id);
    expect(res.headers.get("x-pagination-count")).toBe("2");
    expect(res.headers.get("x-pagination-limit")).toBe("2");
    expect(Number(res.headers.get("x-pagination-total"))).toBeGreaterThanOrEqual(3);

    const some = (await (await api(`/api/v2/${USER}/feeds/photocell/data?limit=1&include=value,id`)).json()) as object[];
    expect(Object.keys(some[0]).sort()).toEqual(["id", "value"]);
    const last = await (await api(`/api/v2/${USER}/feeds/slider/data/last`)).json();
    expect(last).toMatchObject({ value: "50", feed_key: "slider" });
    // The key also works as IO's x-aio-key query parameter.
    expect((await api(`/api/v2/${USER}/feeds?x-aio-key=${KEY}`, { key: null })).status).toBe(200);
  });

  it("refuses a missing or wrong X-AIO-Key, unknown users and feeds, bad queries", async () => {
    const expectError = async (res: Response, status: number, text: RegExp) => {
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(text);
    };
    await expectError(await api(`/api/v2/${USER}/feeds`, { key: null }), 401, /X-AIO-Key/);
    await expectError(await api(`/api/v2/${USER}/feeds`, { key: "aio_wrong" }), 401, /X-AIO-Key/);
    await expectError(await api(`/api/v2/${USER}/feeds/onoff/data`, { method: "POST", key: "aio_wrong", body: '{"value":"ON"}', headers: { "Content-Type": "application/json" } }), 401, /X-AIO-Key/);
    await expectError(await api(`/api/v2/someone-else/feeds`), 404, /no user/);
    await expectError(await api(`/api/v2/${USER}/feeds/nope/data`), 404, /feed nope does not exist/);
    await expectError(await api(`/api/v2/${USER}/feeds/Bad_Key/data`), 400, /invalid feed key/);
    await expectError(await api(`/api/v2/${USER}/feeds/photocell/data?limit=0`), 400, /limit 0/);
    await expectError(await api(`/api/v2/${USER}/feeds/photocell/data?start_time=yesterday`), 400, /start_time/);
    await expectError(await api(`/api/v2/${USER}/dashboards`), 404, /feeds only/);
    expect(sim.broker!.feed(USER, "onoff")!.last!.value).toBe("OFF"); // the refused POST wrote nothing
  });

  it("POST .../data stores the value and the device receives it over MQTT (JSON, form, multipart)", async () => {
    const received = sim.statusOf(0)!.received;
    const posted = await api(`/api/v2/${USER}/feeds/slider/data`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ value: 70, lat: 52.5, lon: 13.4 }) });
    expect(posted.status).toBe(200);
    const point = (await posted.json()) as { id: string; value: string; lat: number; lon: number; ele: number | null };
    expect(point).toMatchObject({ value: "70", lat: 52.5, lon: 13.4, ele: null });
    expect(sim.broker!.feed(USER, "slider")!.last!.id).toBe(point.id);
    await until("the app got slider 70", () => sim.statusOf(0)!.slider === 70, 5000);

    const form = await api(`/api/v2/${USER}/feeds/slider/data`, { method: "POST", body: new URLSearchParams({ value: "71" }) });
    expect(form.status).toBe(200);
    await until("the app got slider 71", () => sim.statusOf(0)!.slider === 71, 5000);
    const multipart = new FormData();
    multipart.set("value", "72");
    expect((await api(`/api/v2/${USER}/feeds/slider/data`, { method: "POST", body: multipart })).status).toBe(200);
    await until("the app got slider 72", () => sim.statusOf(0)!.slider === 72, 5000);
    expect(sim.statusOf(0)!.received).toBeGreaterThanOrEqual(received + 3);

    const big = await api(`/api/v2/${USER}/feeds/slider/data`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ value: "x".repeat(1025) }) });
    expect(big.status).toBe(400);
    expect(((await big.json()) as { error: string }).error).toMatch(/1025 bytes, limit 1024/);
    const novalue = await api(`/api/v2/${USER}/feeds/slider/data`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"lat": 1}' });
    expect(novalue.status).toBe(400);
    expect(sim.broker!.feed(USER, "slider")!.last!.value).toBe("72");
  });
});

describe("dashboard server", () => {
  it("serves the page and its scripts from the package, and refuses foreign Host names and non-JSON controls", async () => {
    const page = await fetch(web.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toMatch(/<script type="module" src="\/dashboard.js">/);
    expect(html).not.toMatch(/https?:\/\//); // no CDN
    for (const asset of ["/dashboard.js", "/chart.js", "/style.css"]) expect((await fetch(new URL(asset, web.url))).status).toBe(200);

    // DNS rebinding: the same port reached under another name gets nothing.
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: "127.0.0.1", port: web.port, path: "/api/sim", headers: { Host: "evil.example" } }, (res) => { res.resume(); resolve(res.statusCode!); })
        .on("error", reject).end();
    });
    expect(status).toBe(403);
    // A form post from another site cannot act: controls take JSON only (a cross-site JSON post needs CORS).
    const form = await fetch(new URL("/api/control", web.url), { method: "POST", body: new URLSearchParams({ action: "killTcp" }) });
    expect(form.status).toBe(415);
    const bad = await fetch(new URL("/api/control", web.url), { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"action":"onoff","value":"maybe"}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/"ON" or "OFF"/);
  });
});

describe("dashboard in Chromium", () => {
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });
  afterAll(async () => { await browser?.close(); });

  const textOf = (id: string) => page.locator(`#${id}`).innerText();
  const waitText = (id: string, re: RegExp, timeout?: number) => waitTextIn(page, id, re, timeout);
  const points = `Number(document.querySelector("#chart-reading svg")?.getAttribute("data-points"))`;

  it("shows the device live, its chart grows, the toggle drives the LED, the slider reaches the app", async () => {
    await page.goto(web.url);
    await waitText("live", /^live$/);
    await waitText("mqtt-state", /^connected$/);
    expect(await textOf("wifi-state")).toBe("connected");
    expect(await textOf("wifi-ip")).toMatch(/^192\.168\.\d+\.\d+$/);
    await waitText("trace", /MQTT: connected to 127\.0\.0\.1/);

    // The chart starts with the emulator's history and grows with each reading stored.
    await inPage(page, `${points} >= 2`);
    const before = Number(await page.locator("#chart-reading svg").getAttribute("data-points"));
    await inPage(page, `${points} >= ${before + 2}`);
    expect(await page.locator("#chart-reading svg path").first().getAttribute("d")).toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+$/);

    // onoff: the click publishes ON to the feed, the device receives it and drives GPIO2 low (LED on).
    const onoff = sim.broker!.feed(USER, "onoff")!.last!.value;
    expect(await page.locator("#onoff").getAttribute("aria-checked")).toBe(String(onoff === "ON"));
    const want = onoff === "ON" ? "OFF" : "ON";
    await page.locator("#onoff").click();
    await until(`the simulated LED ${want === "ON" ? "lit" : "dark"}`, () => sim.devices[0].device.pins.level(LED_PIN) === (want === "ON" ? 0 : 1), 5000);
    expect(sim.broker!.feed(USER, "onoff")!.last!.value).toBe(want);
    await inPage(page, `document.getElementById("led").dataset.on === "${want === "ON"}"`, 5000);
    expect(await page.locator("#onoff").getAttribute("aria-checked")).toBe(String(want === "ON"));

    // slider: a click near its right end moves it there; the value on release goes to the feed and the app.
    const box = (await page.locator("#slider").boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.9, box.y + box.height / 2);
    const shown = Number(await textOf("slider-value"));
    expect(shown).toBeGreaterThan(72);
    await until(`the app got slider ${shown}`, () => sim.statusOf(0)!.slider === shown, 5000);
    expect(sim.broker!.feed(USER, "slider")!.last!.value).toBe(String(shown));
    expect(pageErrors).toEqual([]);
  });

  it("fault buttons: Kill TCP and Restart broker show a reconnect, Blackhole toggles the link", async () => {
    await page.goto(web.url);
    await waitText("mqtt-state", /^connected$/);
    const reconnects = sim.statusOf(0)!.reconnects;
    await waitText("reconnects", new RegExp(`^${reconnects}$`));

    await page.getByRole("button", { name: "Kill TCP" }).last().click();
    await waitText("action", /TCP connections reset/);
    await waitText("reconnects", new RegExp(`^${reconnects + 1}$`), 15_000);
    await waitText("mqtt-state", /^connected$/, 15_000);
    expect(sim.statusOf(0)!.reconnects).toBe(reconnects + 1);

    await page.locator('[data-scope="device"] [data-fault="restartBroker"]').click();
    await waitText("action", /broker restarted \(down 2 s\)/, 15_000);
    await waitText("reconnects", new RegExp(`^${reconnects + 2}$`), 20_000);
    await waitText("mqtt-state", /^connected$/, 15_000);

    const blackhole = page.locator('[data-scope="device"] [data-fault="blackhole"]');
    await blackhole.click();
    await waitText("net-blackhole", /^ON$/);
    expect(sim.devices[0].device.network.blackholed).toBe(true);
    expect(await blackhole.getAttribute("aria-pressed")).toBe("true");
    await blackhole.click();
    await waitText("net-blackhole", /^off$/);
    expect(sim.devices[0].device.network.blackholed).toBe(false);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});

describe("xsmq sim --web", () => {
  it("prints the dashboard's URL and serves it while the simulation runs", async () => {
    const p = spawn(process.execPath, ["bin/xsmq.js", "sim", "--duration", "20", "--interval", "1", "--web", "0", "--plain"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => { out += d; });
    p.stderr.on("data", (d) => { out += d; });
    try {
      await until(`a dashboard line in:\n${out}`, () => /dashboard http:\/\/127\.0\.0\.1:\d+\//.test(out), 15_000);
      const url = /dashboard (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1];
      expect(await (await fetch(url)).text()).toMatch(/<title>xsmq sim<\/title>/);
      await until("a device frame with MQTT connected", () => /mqtt connected/.test(out), 15_000);
      const device = (await (await fetch(new URL("/api/sim/devices/0", url))).json()) as { status: { mqtt: string } };
      expect(device.status.mqtt).toBe("connected");
      // The page learns the key this run generated (first event of its stream) and it opens the HTTP API.
      const events = new AbortController();
      const stream = (await fetch(new URL("/events", url), { signal: events.signal })).body!.getReader();
      let first = "";
      while (!first.includes("\n\n")) first += new TextDecoder().decode((await stream.read()).value);
      events.abort();
      const hello = JSON.parse(/^event: hello\ndata: (.*)$/m.exec(first)![1]) as { key: string; user: string };
      expect(hello.key).toMatch(/^aio_[0-9a-f]{24}$/);
      expect((await fetch(new URL(`/api/v2/${hello.user}/feeds`, url), { headers: { "X-AIO-Key": hello.key } })).status).toBe(200);
      expect((await fetch(new URL(`/api/v2/${hello.user}/feeds`, url), { headers: { "X-AIO-Key": "aio_guess" } })).status).toBe(401);
    } finally {
      p.kill("SIGINT");
      await new Promise((r) => p.once("exit", r));
    }
    expect(out).toMatch(/summary: 1\/1 connected/);
  }, 40_000);

  it("refuses a port that is not one", async () => {
    const p = spawn(process.execPath, ["bin/xsmq.js", "sim", "--web", "70000"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    p.stderr.on("data", (d) => { err += d; });
    const code = await new Promise((r) => p.once("exit", r));
    expect(code).toBe(2);
    expect(err).toMatch(/--web 70000: expected a whole number >= 0 and <= 65535/);
  });
});

describe("dashboard without the emulator", () => {
  it("on a plain local broker, readings come from the device's status and the HTTP API says why it is absent", async () => {
    const plain = await startSimulation({ interval: 300, localBroker: "mqtt" });
    const server = await startWebDashboard(plain);
    const events = new AbortController();
    try {
      const res = await fetch(new URL("/events?device=0", server.url), { signal: events.signal });
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const reader = res.body!.getReader();
      let text = "";
      const readings = () => [...text.matchAll(/^event: reading\ndata: \[(\d+),(\d+)\]$/gm)];
      const deadline = Date.now() + 15_000;
      while (readings().length < 2) {
        if (Date.now() > deadline) throw new Error(`no 2 readings in:\n${text}`);
        text += new TextDecoder().decode((await reader.read()).value);
      }
      const [t0, v0] = readings()[0].slice(1).map(Number);
      const [t1] = readings()[1].slice(1).map(Number);
      expect(t1).toBeGreaterThan(t0);
      expect(v0).toBeGreaterThanOrEqual(0);
      expect(v0).toBeLessThanOrEqual(1023);
      expect(text).toMatch(/"localBroker":"local MQTT broker"/);
      const api = await fetch(new URL("/api/v2/xsmq-demo/feeds", server.url));
      expect(api.status).toBe(404);
      expect(((await api.json()) as { error: string }).error).toMatch(/served with the local emulator; this simulation uses local MQTT broker/);
    } finally {
      events.abort();
      await server.close();
      await plain.stop();
    }
  });
});
