// The xsmq sim dashboard: one event stream from the server (/events, server-sent events) drives the fleet view and
// the device view; buttons, the onoff toggle and the slider post to /api/control. Nothing here polls.
import { LineChart, drawn } from "./chart.js";

const $ = (id) => document.getElementById(id);
const STATE_NAMES = { c: "connected", m: "MQTT down", w: "no Wi-Fi", n: "not started", x: "failed to start" };

let source;          // the EventSource
let hello;           // what the server said about the simulation
let device = null;   // the device shown, or null for the fleet
let frame = null;    // its last frame
let states = "";     // the fleet's state letters as drawn
const fleetFaults = { blackhole: false, latency: 0 };

const charts = {
  connected: new LineChart($("chart-connected"), { series: [{ label: "connected", color: "#2e7d32" }], min: 0 }),
  mps: new LineChart($("chart-mps"), { series: [{ label: "messages/s", color: "#1565c0" }], min: 0 }),
  latency: new LineChart($("chart-latency"), { series: [{ label: "p50", color: "#6a1b9a" }, { label: "p99", color: "#ef6c00" }], min: 0 }),
  reading: new LineChart($("chart-reading"), { series: [{ label: "photocell", color: "#00838f" }], keep: 300 }),
};
// Events handled and ms spent on them, and charts drawn: what the page costs (the dashboard bench reads it).
const handled = { count: 0, ms: 0 };
window.xsmqWork = { handled, drawn };

function connect() {
  source?.close();
  const wanted = /^#device=(\d+)$/.exec(location.hash)?.[1];
  source = new EventSource(wanted === undefined ? "/events" : `/events?device=${wanted}`);
  source.onopen = () => { $("live").textContent = "live"; $("live").className = "pill on"; };
  source.onerror = () => { $("live").textContent = "reconnecting…"; $("live").className = "pill off"; };
  on("hello", (h) => {
    hello = h;
    device = h.device;
    $("title").textContent = h.title;
    $("where").textContent = `broker ${h.localBroker ? `${h.localBroker} ` : ""}${h.broker}` +
      (h.httpApi ? ` · Adafruit IO HTTP API at ${location.origin}${h.httpApi}${h.user}/feeds (X-AIO-Key: ${h.key ?? "your key"})` : "");
    $("fleet").hidden = device !== null;
    $("device").hidden = device === null;
    $("back").hidden = h.devices === 1;
    for (const b of document.querySelectorAll('[data-fault="restartBroker"]')) b.disabled = !h.localBroker;
    if (device === null) states = "";
    else $("d-feed").textContent = h.feed;
  });
  on("history", (rows) => {
    charts.connected.setData(rows.map((r) => [r[0], r[1]]));
    charts.mps.setData(rows.map((r) => [r[0], r[2]]));
    charts.latency.setData(rows.map((r) => [r[0], r[3], r[4]]));
  });
  on("fleet", showFleet);
  on("device", showDevice);
  on("readings", (points) => { charts.reading.setData(points); showReading(); });
  on("reading", (point) => { charts.reading.push(point); showReading(); });
  on("action", (a) => showAction(a.text, false, a.t));
}

function on(event, fn) {
  source.addEventListener(event, (e) => {
    const t0 = performance.now();
    fn(JSON.parse(e.data));
    handled.count++;
    handled.ms += performance.now() - t0;
  });
}

// --- fleet -------------------------------------------------------------------------------------------------
function showFleet(f) {
  if (device !== null) return;
  text("f-connected", `${f.connected}/${f.devices}`);
  text("f-mps", f.mps.toFixed(1));
  text("f-p50", ms(f.p50));
  text("f-p99", ms(f.p99));
  text("f-published", f.published);
  text("f-arrived", f.arrived ?? "n/a");
  text("f-reconnects", f.reconnects);
  text("f-errors", f.errors);
  charts.connected.options.max = f.devices;
  charts.connected.push([f.t, f.connected]);
  charts.mps.push([f.t, f.mps]);
  charts.latency.push([f.t, f.p50, f.p99]);
  drawGrid(f.states);
}

/** One cell per device; only cells whose state changed are touched. */
function drawGrid(next) {
  const grid = $("grid");
  if (grid.children.length !== next.length) {
    const cells = [];
    for (let i = 0; i < next.length; i++) {
      const a = document.createElement("a");
      a.href = `#device=${i}`;
      a.setAttribute("role", "listitem");
      cells.push(a);
    }
    grid.replaceChildren(...cells);
    states = "";
  }
  for (let i = 0; i < next.length; i++) {
    if (states[i] === next[i]) continue;
    const cell = grid.children[i];
    cell.className = `s-${next[i]}`;
    cell.title = `dev${i + 1}: ${STATE_NAMES[next[i]] ?? next[i]}`;
  }
  states = next;
}

// --- one device ----------------------------------------------------------------------------------------------
function showDevice(d) {
  frame = d;
  const st = d.status;
  text("d-title", `${d.id} ${d.mac} · user ${d.user} · client ${d.clientId}`);
  text("wifi-state", st ? st.wifi : d.startError ? "app failed to start" : "starting…");
  text("wifi-ssid", st?.ssid ?? "-");
  text("wifi-ip", st?.ip ?? "-");
  text("wifi-rssi", st?.rssi === undefined || st?.rssi === null ? "-" : `${st.rssi} dBm`);
  text("mqtt-state", st ? st.mqtt : "-");
  $("mqtt-state").dataset.state = st?.mqtt ?? "";
  text("reconnects", st?.reconnects ?? "-");
  text("queue", st?.queued ?? "-");
  text("sent", st ? `${st.published} published, ${st.delivered} delivered` : "-");
  text("received", st?.received ?? "-");
  text("errors", st?.errors ?? "-");
  text("last-error", d.startError ?? st?.lastError ?? "-");
  const net = d.net;
  text("net-link", net.linkUp ? "up" : "DOWN");
  text("net-blackhole", net.blackholed ? "ON" : "off");
  text("net-latency", `${net.latencyMs} ms`);
  text("net-bytes", `${bytes(net.bytesIn)} / ${bytes(net.bytesOut)}`);
  text("net-connects", net.connects);
  pressed('[data-scope="device"] [data-fault="blackhole"]', net.blackholed);
  pressed('[data-scope="device"] [data-fault="latency"]', net.latencyMs > 0);

  $("onoff").setAttribute("aria-checked", String(d.onoff === "ON"));
  const slider = $("slider");
  if (!slider.matches(":active")) { // not while the user drags it
    if (slider.value !== String(d.slider)) slider.value = String(d.slider);
    text("slider-value", d.slider);
  }
  const led = st ? st.led === 1 : false;
  $("led").dataset.on = String(led);
  text("led-text", `${led ? "on" : "off"}${d.outputs.length ? ` (${d.outputs.map((o) => `GPIO${o.pin} ${o.level ? "high" : "low"}`).join(", ")})` : ""}`);

  const trace = $("trace");
  const lines = d.trace.join("\n");
  if (trace.textContent !== lines) { trace.textContent = lines; trace.scrollTop = trace.scrollHeight; }
}

function showReading() {
  const rows = charts.reading.rows;
  const last = rows[rows.length - 1];
  text("d-reading", last ? `${rows.length} readings, last ${last[1]} at ${new Date(last[0]).toLocaleTimeString([], { hour12: false })}` : "no readings yet");
}

// --- controls ---------------------------------------------------------------------------------------------
async function control(body, button) {
  if (button) button.disabled = true;
  try {
    const res = await fetch("/api/control", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await res.json();
    if (!res.ok) showAction(answer.error ?? `HTTP ${res.status}`, true);
  } catch (e) {
    showAction(`request failed: ${e.message}`, true);
  } finally {
    if (button) button.disabled = body.action === "restartBroker" && !hello?.localBroker;
  }
}

$("onoff").addEventListener("click", (e) => {
  const on = $("onoff").getAttribute("aria-checked") === "true";
  control({ action: "onoff", value: on ? "OFF" : "ON", device }, e.currentTarget);
});
$("slider").addEventListener("input", () => text("slider-value", $("slider").value));
$("slider").addEventListener("change", () => control({ action: "slider", value: Number($("slider").value), device }));

for (const card of document.querySelectorAll(".faults")) {
  card.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-fault]");
    if (!button) return;
    const action = button.dataset.fault;
    const fleet = card.dataset.scope === "fleet";
    const body = { action, device: fleet ? undefined : device };
    if (action === "blackhole") {
      body.value = fleet ? (fleetFaults.blackhole = !fleetFaults.blackhole) : !frame?.net.blackholed;
      if (fleet) pressed('[data-scope="fleet"] [data-fault="blackhole"]', body.value);
    } else if (action === "latency") {
      body.value = (fleet ? fleetFaults.latency : frame?.net.latencyMs) ? 0 : 300;
      if (fleet) { fleetFaults.latency = body.value; pressed('[data-scope="fleet"] [data-fault="latency"]', body.value > 0); }
    }
    control(body, button);
  });
}

window.addEventListener("hashchange", connect);

// --- helpers ------------------------------------------------------------------------------------------------
function showAction(message, error, t = Date.now()) {
  const el = $("action");
  el.textContent = `${new Date(t).toLocaleTimeString([], { hour12: false })} ${message}`;
  el.classList.toggle("error", error);
}

function text(id, value) {
  const el = $(id), s = String(value);
  if (el.textContent !== s) el.textContent = s;
}

function pressed(selector, on) {
  document.querySelector(selector)?.setAttribute("aria-pressed", String(on));
}

function ms(v) {
  return v === null || v === undefined ? "-" : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
}

function bytes(n) {
  return n < 10_000 ? `${n} B` : n < 10_000_000 ? `${(n / 1000).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;
}

connect();
