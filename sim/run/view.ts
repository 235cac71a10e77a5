// The live terminal view of `xsmq sim`: redraws ~5 times a second (ANSI, alternate screen, fits 80x24) and
// turns key presses into faults and dashboard writes. One device gets a detailed panel, a fleet a table.
import type { Simulation } from "./runner.ts";
import { fleetLine, formatMs, progressBar, type Summary } from "./summary.ts";
import { timestamp } from "./log.ts";

const ESC = "\x1b[";
const KEYS_HELP = [
  "keys: w drop Wi-Fi  k kill TCP  b blackhole  l +300 ms latency  r restart broker",
  "      o toggle onoff  < > move slider  q quit",
];

export interface ViewOptions {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  /** Called when the user asks to quit (q or Ctrl-C). */
  onQuit: () => void;
  title?: string;
}

export class SimView {
  private timer: NodeJS.Timeout | undefined;
  private lastAction = "";
  private blackholed = false;
  private latency = 0;
  private readonly started = Date.now();
  private readonly onData = (data: Buffer) => this.key(data.toString("utf8"));

  constructor(private readonly sim: Simulation, private readonly options: ViewOptions) {}

  start(): void {
    const { input, output } = this.options;
    output.write(`${ESC}?1049h${ESC}?25l`); // alternate screen, hide cursor
    if (input.isTTY) input.setRawMode(true);
    input.on("data", this.onData);
    input.resume();
    this.draw();
    this.timer = setInterval(() => this.draw(), 200);
  }

  /** Restores the terminal. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const { input, output } = this.options;
    input.off("data", this.onData);
    if (input.isTTY) input.setRawMode(false);
    input.pause();
    output.write(`${ESC}?25h${ESC}?1049l`);
  }

  private key(data: string): void {
    const sim = this.sim, f = sim.faults, d = sim.dashboard;
    for (const k of data === `${ESC}C` || data === `${ESC}D` ? [data] : [...data]) {
      if (k === "q" || k === "\x03") { this.options.onQuit(); return; }
      else if (k === "w") { f.dropWifi(5000); this.action("Wi-Fi access point gone for 5 s"); }
      else if (k === "k") { f.killConnections(); this.action("TCP connections reset"); }
      else if (k === "b") { this.blackholed = !this.blackholed; f.blackhole(this.blackholed); this.action(this.blackholed ? "link blackholed (press b again to lift)" : "blackhole lifted"); }
      else if (k === "l") { this.latency = this.latency ? 0 : 300; f.setLatency(this.latency); this.action(`added latency ${this.latency} ms each way`); }
      else if (k === "r") {
        if (!sim.localBroker) { this.action("the broker is external: restart it yourself"); continue; }
        this.action("broker restarting (down 2 s)");
        f.restartBroker(2000).then(() => this.action("broker restarted"), (e: Error) => this.action(`broker restart failed: ${e.message}`));
      }
      else if (k === "o") this.action(`dashboard: onoff ${d.toggleOnoff()}`);
      else if (k === ">" || k === "." || k === "+" || k === `${ESC}C`) this.action(`dashboard: slider ${d.moveSlider(10)}`);
      else if (k === "<" || k === "," || k === "-" || k === `${ESC}D`) this.action(`dashboard: slider ${d.moveSlider(-10)}`);
    }
  }

  private action(text: string): void {
    this.lastAction = `${timestamp()} ${text}`;
    this.draw();
  }

  private draw(): void {
    const cols = Math.max(40, this.options.output.columns || 80);
    const rows = Math.max(16, this.options.output.rows || 24);
    const lines = this.sim.devices.length === 1 ? this.devicePanel(rows) : this.fleetPanel(rows);
    let out = `${ESC}H`;
    for (const line of lines.slice(0, rows)) out += fit(line, cols) + `${ESC}K\r\n`;
    this.options.output.write(out.slice(0, -2) + `${ESC}J`);
  }

  private header(s: Summary): string[] {
    const up = formatDuration(Date.now() - this.started);
    const where = this.sim.localBroker ? `${this.sim.localBroker} ${this.sim.brokerUrl}` : this.sim.brokerUrl;
    return [
      `${ESC}1mxsmq sim${ESC}0m  ${this.options.title ?? ""}  up ${up}`,
      `broker ${where}  user ${this.sim.devices[0].username}${s.devices > 1 ? ` (+${s.devices - 1} devices)` : ""}`,
    ];
  }

  private footer(): string[] {
    return KEYS_HELP.map((line) => `${ESC}7m${line}${ESC}0m`);
  }

  /** One device: every field of its status, its network, its trace tail. */
  private devicePanel(rows: number): string[] {
    const s = this.sim.summary();
    const dev = this.sim.devices[0];
    const st = dev.app?.status;
    const net = dev.device.network;
    const lines = this.header(s);
    lines.push(rule("device " + dev.device.id + " " + dev.device.mac));
    if (!st) lines.push(dev.startError ? `app failed to start: ${dev.startError}` : "starting...");
    else {
      lines.push(`Wi-Fi   ${pad(st.wifi, 11)} ssid ${st.ssid ?? "-"}  IP ${st.ip ?? "-"}  RSSI ${st.rssi ?? "-"} dBm`);
      lines.push(`MQTT    ${pad(st.mqtt, 11)} reconnects ${st.reconnects}  queue ${st.queued}  errors ${st.errors}${st.lastError ? `  last: ${st.lastError}` : ""}`);
      lines.push(`Sent    reading ${st.lastReading ?? "-"}  published ${st.published}  delivered ${st.delivered}`);
      lines.push(`Feeds   onoff ${st.led ? "ON " : "OFF"} (LED ${st.led ? "on" : "off"})  slider ${st.slider ?? "-"}  time ${st.time ?? "-"}  received ${st.received}`);
    }
    lines.push(`Net     in ${bytes(net.bytesIn)}  out ${bytes(net.bytesOut)}  connects ${net.connects}  latency p50 ${formatMs(s.latencyP50Ms)} p99 ${formatMs(s.latencyP99Ms)}`);
    lines.push(`Link    ${net.linkUp ? "up" : "DOWN"}  blackhole ${net.blackholed ? "ON" : "off"}  added latency ${net.latencyMs} ms  send window ${net.sendWindow} B`);
    lines.push(`Last    ${this.lastAction || "-"}`);
    lines.push(rule("trace"));
    const room = rows - lines.length - KEYS_HELP.length;
    const trace = dev.trace.slice(-room);
    lines.push(...trace);
    for (let i = trace.length; i < room; i++) lines.push("");
    lines.push(...this.footer());
    return lines;
  }

  /** A fleet: connect progress, the fleet summary line and a table of the first devices. */
  private fleetPanel(rows: number): string[] {
    const s = this.sim.summary();
    const lines = this.header(s);
    lines.push(rule("fleet"));
    lines.push(`connected ${progressBar(s.connected, s.devices, 40)}   Wi-Fi ${s.wifiConnected}  started ${s.started}`);
    lines.push(fleetLine(s));
    lines.push(`queued ${s.queued}  received ${s.received}  in ${bytes(s.bytesIn)}  out ${bytes(s.bytesOut)}`);
    lines.push(`Last    ${this.lastAction || "-"}`);
    lines.push(rule("devices"));
    lines.push(`${pad("id", 8)}${pad("wifi", 12)}${pad("ip", 16)}${pad("mqtt", 12)}${pad("sent", 7)}${pad("recv", 7)}${pad("reconn", 7)}err`);
    const room = rows - lines.length - KEYS_HELP.length;
    for (const dev of this.sim.devices.slice(0, room)) {
      const st = dev.app?.status;
      lines.push(st
        ? `${pad(dev.device.id, 8)}${pad(st.wifi, 12)}${pad(st.ip ?? "-", 16)}${pad(st.mqtt, 12)}${pad(String(st.published), 7)}${pad(String(st.received), 7)}${pad(String(st.reconnects), 7)}${st.errors}`
        : `${pad(dev.device.id, 8)}(not started)`);
    }
    while (lines.length < rows - KEYS_HELP.length) lines.push("");
    lines.push(...this.footer());
    return lines;
  }
}

function pad(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width - 1) + " " : text.padEnd(width);
}

function rule(title: string): string {
  return `-- ${title} ` + "-".repeat(60);
}

/** Cuts a line to `cols` visible characters (ANSI sequences do not count). */
function fit(line: string, cols: number): string {
  let visible = 0, out = "";
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\x1b") {
      const end = line.indexOf("m", i);
      out += line.slice(i, end + 1);
      i = end;
      continue;
    }
    if (visible >= cols) continue;
    out += line[i];
    visible++;
  }
  return out;
}

function bytes(n: number): string {
  return n < 10_000 ? `${n} B` : n < 10_000_000 ? `${(n / 1000).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 3600)).padStart(2, "0")}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}
