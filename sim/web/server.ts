// `xsmq sim --web`: an HTTP server on 127.0.0.1 with the dashboard page (sim/web/public, served as is: no build
// step, no CDN), live frames over server-sent events, the page's controls, and the local Adafruit IO emulator's
// HTTP API under /api/v2/. The server pushes; the page never polls.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import type { Simulation } from "../run/runner.ts";
import { createAioHttpApi } from "../aio/http.ts";
import { deviceFrame, fleetFrame, READING_FEED, type FleetFrame } from "./frames.ts";
import { applyControl, ControlError, type Control } from "./controls.ts";

export interface WebOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** When `port` is taken, take a free one instead of failing (for a default port, not one the user chose). */
  orFreePort?: boolean;
  /** Shown at the top of the page, e.g. "ESP8266 running src/app/main.ts". */
  title?: string;
  /** The local emulator's key when the run generated it (not the user's own): the page shows it for the HTTP API. */
  generatedKey?: string;
}

export interface WebDashboard {
  readonly port: number;
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  /** Ends the event streams and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

const HOST = "127.0.0.1";
const FLEET_MS = 1000;        // fleet frames and the fleet history's resolution
const DEVICE_MS = 200;        // a watched device's frame is sent when it changed, checked this often
const FLEET_HISTORY = 600;    // fleet samples kept (10 minutes)
const READINGS = 300;         // readings per device sent to a page that opens it
const STATIC: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
  "/chart.js": { file: "chart.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

interface Stream { res: ServerResponse; device: number | undefined; last: string; off?: () => void }
type Point = [t: number, v: number];
type Sample = [t: number, connected: number, mps: number, p50: number | null, p99: number | null];

export async function startWebDashboard(sim: Simulation, options: WebOptions = {}): Promise<WebDashboard> {
  const assets = new Map(Object.entries(STATIC).map(([path, a]) => [path, { type: a.type, body: readFileSync(new URL(`./public/${a.file}`, import.meta.url)) }]));
  const aioApi = sim.broker ? createAioHttpApi(sim.broker) : undefined;
  const streams = new Set<Stream>();
  const history: Sample[] = [];
  let latest: FleetFrame | undefined;
  let lastAction: { text: string; t: number } | undefined;
  let port = 0;

  const send = (s: Stream, event: string, data: unknown) => { s.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`); };
  const broadcast = (event: string, data: unknown) => { for (const s of streams) send(s, event, data); };

  // --- readings: the emulator's feed history and each point it stores; without it, each device's last reading sampled ---
  const sampled = new Map<number, { published: number; points: Point[] }>();
  const readingsOf = (index: number): Point[] => {
    if (!sim.broker) return sampled.get(index)?.points ?? [];
    const points: Point[] = [];
    for (const p of sim.broker.feed(sim.devices[index].username, READING_FEED)?.history.slice(-READINGS) ?? []) {
      const v = Number(p.value);
      if (Number.isFinite(v)) points.push([p.at, v]);
    }
    return points;
  };
  const pushReading = (matches: (s: Stream) => boolean, point: Point) => {
    for (const s of streams) if (s.device !== undefined && matches(s)) send(s, "reading", point);
  };
  const offPublish = sim.broker?.on("publish", (e) => {
    const v = Number(e.point.value);
    if (e.key === READING_FEED && Number.isFinite(v)) pushReading((s) => sim.devices[s.device!].username === e.user, [e.point.at, v]);
  });
  const sampleReadings = () => {
    sim.devices.forEach((dev, i) => {
      const st = dev.app?.status;
      if (!st || st.lastReading === undefined) return;
      let r = sampled.get(i);
      if (!r) sampled.set(i, (r = { published: -1, points: [] }));
      if (r.published === st.published) return;
      r.published = st.published;
      const point: Point = [Date.now(), st.lastReading];
      r.points.push(point);
      if (r.points.length > READINGS) r.points.shift();
      pushReading((s) => s.device === i, point);
    });
  };

  // --- frames -----------------------------------------------------------------------------------------------
  const fleetTick = () => {
    latest = fleetFrame(sim, sim.summary());
    history.push([latest.t, latest.connected, latest.mps, latest.p50, latest.p99]);
    if (history.length > FLEET_HISTORY) history.shift();
    broadcast("fleet", latest);
  };
  const deviceTick = () => {
    if (!sim.broker) sampleReadings();
    const frames = new Map<number, string>();
    for (const s of streams) {
      if (s.device === undefined) continue;
      let json = frames.get(s.device);
      if (json === undefined) frames.set(s.device, (json = JSON.stringify(deviceFrame(sim, s.device))));
      if (json !== s.last) { s.last = json; s.res.write(`event: device\ndata: ${json}\n\n`); }
    }
  };
  // A pin the app drives (the LED) shows at once, not at the next tick.
  let soon: NodeJS.Immediate | undefined;
  const deviceSoon = () => { soon ??= setImmediate(() => { soon = undefined; deviceTick(); }); };
  fleetTick();
  const fleetTimer = setInterval(fleetTick, FLEET_MS);
  const deviceTimer = setInterval(deviceTick, DEVICE_MS);

  // --- requests ---------------------------------------------------------------------------------------------
  const openStream = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const d = url.searchParams.get("device");
    const device = d === null || d === "" ? (sim.devices.length === 1 ? 0 : undefined) : Number(d);
    if (device !== undefined && !(Number.isInteger(device) && device >= 0 && device < sim.devices.length))
      return json(res, 404, { error: `no device ${d} (0..${sim.devices.length - 1})` });
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" });
    const s: Stream = { res, device, last: "" };
    send(s, "hello", {
      title: options.title ?? `${sim.devices.length} device(s) running ${sim.appSource}`, devices: sim.devices.length,
      broker: sim.brokerUrl, localBroker: sim.localBroker ?? null, feed: READING_FEED, httpApi: sim.broker ? "/api/v2/" : null,
      user: sim.devices[0].username, key: options.generatedKey ?? null, device: device ?? null,
    });
    send(s, "history", history);
    if (latest) send(s, "fleet", latest);
    if (lastAction) send(s, "action", lastAction);
    if (device !== undefined) {
      s.last = JSON.stringify(deviceFrame(sim, device));
      res.write(`event: device\ndata: ${s.last}\n\n`);
      send(s, "readings", readingsOf(device));
      s.off = sim.devices[device].device.pins.onChange(deviceSoon);
    }
    streams.add(s);
    req.on("close", () => { s.off?.(); streams.delete(s); });
  };

  const control = async (req: IncomingMessage, res: ServerResponse) => {
    // A JSON content type makes a cross-site page's request need a CORS preflight, which this server never grants.
    if (!/^application\/json\b/i.test(String(req.headers["content-type"] ?? ""))) return json(res, 415, { error: "send JSON (Content-Type: application/json)" });
    const text = await readText(req);
    if (text === undefined) return json(res, 413, { error: "the body is larger than 16 KB" });
    let body: Control;
    try {
      body = JSON.parse(text) as Control;
    } catch {
      return json(res, 400, { error: "the body is not JSON" });
    }
    try {
      const text = await applyControl(sim, body ?? {});
      lastAction = { text, t: Date.now() };
      broadcast("action", lastAction);
      deviceTick(); // show the effect at once where it is immediate (link, blackhole, latency)
      json(res, 200, { ok: true, text });
    } catch (e) {
      json(res, e instanceof ControlError ? 400 : 500, { error: (e as Error).message });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // Only loopback names: a page on another site that rebinds its DNS name to 127.0.0.1 gets nothing.
    if (!allowedHost(req.headers.host, port)) return json(res, 403, { error: "use http://127.0.0.1:" + port + "/" });
    const url = new URL(req.url ?? "/", `http://${HOST}`);
    const method = req.method ?? "GET";
    const asset = method === "GET" ? assets.get(url.pathname) : undefined;
    if (asset) {
      res.writeHead(200, {
        "Content-Type": asset.type, "Content-Length": asset.body.length, "Cache-Control": "no-cache",
        "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'", "X-Content-Type-Options": "nosniff",
      });
      return res.end(asset.body);
    }
    if (method === "GET" && url.pathname === "/favicon.ico") { res.writeHead(204); return res.end(); }
    if (method === "GET" && url.pathname === "/events") return openStream(req, res, url);
    if (method === "POST" && url.pathname === "/api/control") return control(req, res);
    if (method === "GET" && url.pathname === "/api/sim") return json(res, 200, latest);
    const m = /^\/api\/sim\/devices\/(\d+)$/.exec(url.pathname);
    if (method === "GET" && m) {
      const i = Number(m[1]);
      return i < sim.devices.length ? json(res, 200, deviceFrame(sim, i)) : json(res, 404, { error: `no device ${i}` });
    }
    if (aioApi && (await aioApi(req, res))) return;
    if (url.pathname.startsWith("/api/v2/")) return json(res, 404, { error: `the Adafruit IO HTTP API is served with the local emulator; this simulation uses ${sim.localBroker ?? sim.brokerUrl}` });
    json(res, 404, { error: `not found: ${url.pathname}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => { if (!res.headersSent) json(res, 500, { error: e.message }); else res.end(); });
  });
  const listen = (p: number) => new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(p, HOST, () => { server.off("error", reject); resolve(); });
  });
  try {
    await listen(options.port ?? 0).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE" && options.orFreePort) return listen(0);
      throw e.code === "EADDRINUSE" ? new Error(`port ${options.port} on ${HOST} is taken: choose another with --web PORT`) : e;
    });
  } catch (e) {
    clearInterval(fleetTimer);
    clearInterval(deviceTimer);
    offPublish?.();
    throw e;
  }
  port = (server.address() as { port: number }).port;

  let closed = false;
  return {
    port,
    url: `http://${HOST}:${port}/`,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(fleetTimer);
      clearInterval(deviceTimer);
      offPublish?.();
      if (soon) clearImmediate(soon);
      for (const s of streams) { s.off?.(); s.res.end(); }
      streams.clear();
      const done = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await done;
    },
  };
}

function allowedHost(host: string | undefined, port: number): boolean {
  return host === `${HOST}:${port}` || host === `localhost:${port}` || host === `[::1]:${port}`;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** The request's body as text, undefined past `max` bytes. */
async function readText(req: IncomingMessage, max = 16 * 1024): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
