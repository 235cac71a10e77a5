// `xsmq sim` with an MQTT 5.0 app: aedes (the built-in plain broker) speaks 3.1.1 only, so the simulator starts a
// real mosquitto ("mosquitto" local broker, or "mqtt" with the app's protocol setting 5). The mqtt template's app
// runs on simulated boards: its CONNECT on the wire says 5, its readings arrive (a subscriber of our own sees
// them), the sniffer counts them and the tracker matches them, the dashboard's retained writes reach it, and a
// broker restart keeps retained messages. The CLI picks mosquitto, says what to install when it is missing, and
// says why a 5.0 app fails on aedes.
import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { startSimulation, type Simulation } from "../sim/run/runner.ts";
import config from "../hosts/node/modules/config.ts";
import Timer from "../hosts/node/modules/timer.ts";
import WiFiManager from "../src/wifi/manager.ts";
import { MQTTClient } from "../src/mqtt/client.ts";
import type { App, AppStatus } from "../src/app/status.ts";
import { runCli, xsmqBin } from "./support/fake-esp/run-cli.ts";
import { cleanEnv, temp } from "./support/fake-sdk.ts";
import { until } from "./support/wait.ts";

const repoRoot = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** The mqtt template's app, as `xsmq init` copies it (its "{{name}}" only in defaults the tests override). */
const appFile = join(repoRoot, "templates/mqtt/src/main.ts");

let sim: Simulation | undefined;
const watchers: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((c) => c.endAsync(true)));
  await sim?.stop();
  sim = undefined;
});

/** An MQTT.js 5.0 subscriber of our own on the simulation's broker: every message, retained ones marked. */
async function watch(url: string, username: string, password: string, filter: string): Promise<Array<{ topic: string; value: string; retain: boolean }>> {
  const seen: Array<{ topic: string; value: string; retain: boolean }> = [];
  const c = mqtt.connect(url, { protocolVersion: 5, username, password, reconnectPeriod: 0, clientId: `watch-${watchers.length}-${process.pid}` });
  watchers.push(c);
  c.on("message", (topic, payload, packet) => seen.push({ topic, value: payload.toString(), retain: packet.retain }));
  await new Promise<void>((resolve, reject) => { c.once("connect", () => resolve()); c.once("error", reject); });
  await c.subscribeAsync(filter, { qos: 1 });
  return seen;
}

/** The protocol level of each CONNECT the device sends (tapping the wire behind the simulator's own sniffer). */
function connectLevels(s: Simulation, index = 0): number[] {
  const levels: number[] = [];
  const network = s.devices[index].device.network;
  const inner = network.sniffer!;
  network.sniffer = (endpoint, bytes) => {
    // CONNECT: 0x10, a one-byte remaining length, then "MQTT" (00 04 4d 51 54 54) and the level.
    if (bytes[0] === 0x10 && bytes.length > 8 && bytes[4] === 0x4d && bytes[7] === 0x54) levels.push(bytes[8]);
    inner(endpoint, bytes);
  };
  return levels;
}

describe("startSimulation on a local mosquitto (MQTT 5.0)", () => {
  it("runs a 5.0 app: readings arrive and are counted and matched, the dashboard reaches it, a restart keeps retained values", async () => {
    sim = await startSimulation({ appFile, localBroker: "mosquitto", key: "k1", interval: 300, config: { topic: "shed", protocol: "5" } });
    expect(sim.localBroker).toBe("local mosquitto");
    const levels = connectLevels(sim);
    const seen = await watch(sim.brokerUrl, "xsmq-demo", "k1", "shed/#");
    const { device } = sim.devices[0];
    device.pins.setAnalog(0, 700);
    await until("readings of 700 at our subscriber", () => seen.filter((m) => m.topic === "shed/photocell" && m.value === "700").length >= 3, 10_000);
    expect(levels).toEqual([5]);
    const tracker = sim.tracker!;
    await until("the sniffer's readings matched on arrival", () => tracker.arrived >= 4);
    expect(tracker.sent).toBeGreaterThanOrEqual(tracker.arrived);
    expect(tracker.unmatched).toBe(0);
    // After the readings queued before the connection: the status the app publishes once connected, and the
    // dashboard's retained settings, written before the app started.
    await until("the status online", () => seen.some((m) => m.topic === "shed/status"));
    expect(seen.filter((m) => m.topic !== "shed/photocell")).toEqual([
      { topic: "shed/onoff", value: "OFF", retain: true }, { topic: "shed/slider", value: "50", retain: true },
      { topic: "shed/status", value: "online", retain: false }]);

    sim.dashboard.write("onoff", "ON");
    await until("the LED on", () => sim!.statusOf(0)?.led === 1);
    expect(device.pins.level(2)).toBe(0);

    const reconnects = sim.statusOf(0)!.reconnects;
    await sim.faults.restartBroker(300);
    await until("the app back on the restarted broker", () => sim!.statusOf(0)!.reconnects > reconnects && sim!.statusOf(0)!.mqtt === "connected", 15_000);
    const arrived = tracker.arrived;
    await until("readings arriving again", () => tracker.arrived >= arrived + 2, 10_000);
    expect(levels.every((l) => l === 5)).toBe(true);
    expect(levels.length).toBeGreaterThanOrEqual(2);
    // The dashboard's retained ON outlived the restart (mosquitto saved it when it stopped).
    const after = await watch(sim.brokerUrl, "xsmq-demo", "k1", "shed/onoff");
    await until("the retained onoff", () => after.length > 0);
    expect(after[0]).toEqual({ topic: "shed/onoff", value: "ON", retain: true });
    expect(sim.summary().errors).toBe(0);
  });

  it("a fleet on one topic: arrivals, which do not name their sender, are matched to the device that sent them", async () => {
    sim = await startSimulation({ appFile, devices: 3, localBroker: "mosquitto", interval: 300, startWindowMs: 0, config: { topic: "shed", protocol: "5" } });
    sim.devices.forEach((d, i) => d.device.pins.setAnalog(0, 100 * (i + 1)));
    const tracker = sim.tracker!;
    await until("readings from all three", () => sim!.summary().connected === 3 && tracker.arrived >= 12, 15_000);
    expect(tracker.unmatched).toBe(0);
    expect(tracker.skipped).toBe(0);
    expect(sim.summary().errors).toBe(0);
  });

  it("the same app in 3.1.1 runs on mosquitto too", async () => {
    sim = await startSimulation({ appFile, localBroker: "mosquitto", interval: 300, config: { topic: "shed" } });
    const levels = connectLevels(sim);
    await until("readings matched", () => sim!.tracker!.arrived >= 3, 10_000);
    expect(levels).toEqual([4]);
    expect(sim.summary().errors).toBe(0);
  });
});

/** A 5.0 app publishing a counter at QoS 0 every 50 ms: the client names the topic by a Topic Alias after the first. */
function qos0App(): App {
  const status: AppStatus = { wifi: "idle", ssid: undefined, ip: undefined, rssi: undefined, mqtt: "offline", published: 0, delivered: 0,
    received: 0, reconnects: 0, queued: 0, errors: 0, lastError: undefined, lastReading: undefined, led: 0, slider: undefined, time: undefined };
  const client = new MQTTClient({ host: String(config.broker), port: Number(config.port), clientId: String(config.clientId),
    username: String(config.username), password: String(config.key), protocolVersion: 5, connect: false });
  client.onError = (e) => { status.errors++; status.lastError = e.message; };
  const wifi = new WiFiManager({}, () => {});
  wifi.addLinkListener((up) => client.setLink(up));
  let n = 0;
  const timer = Timer.repeat(() => {
    status.mqtt = client.state;
    if (client.connected && client.publish("shed/count", String(++n), 0) >= 0) status.published++;
  }, 50);
  return { status, stop() { Timer.clear(timer); client.close(); wifi.close(); } };
}

it("QoS 0 readings under a Topic Alias are read by the sniffer and matched on arrival", async () => {
  sim = await startSimulation({ main: qos0App, localBroker: "mosquitto", key: "k1" });
  const aliased: number[] = [];
  const network = sim.devices[0].device.network, inner = network.sniffer!;
  network.sniffer = (endpoint, bytes) => {
    // A QoS 0 PUBLISH (0x30) with a one-byte remaining length and an empty topic: its alias stands for it.
    if (bytes[0] === 0x30 && bytes[2] === 0 && bytes[3] === 0) aliased.push(bytes.length);
    inner(endpoint, bytes);
  };
  await until("40 readings matched", () => sim!.tracker!.arrived >= 40, 15_000);
  expect(aliased.length).toBeGreaterThan(30);
  expect(sim.tracker!.unmatched).toBe(0);
  expect(sim.tracker!.skipped).toBe(0);
  expect(sim.summary().errors).toBe(0);
});

/** `xsmq init --template mqtt` into a new folder, node_modules/xsmq linked here, `protocol` set in xsmq.config.json. */
async function project(name: string, protocol?: string): Promise<string> {
  const dir = join(temp("xsmq-project-"), name);
  const r = await runCli(["init", dir, "--template", "mqtt"], { env: cleanEnv({}) });
  expect(r.code, r.stderr).toBe(0);
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(repoRoot, join(dir, "node_modules", "xsmq"));
  if (protocol) {
    const file = join(dir, "xsmq.config.json");
    const config = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...config, config: { ...config.config, protocol } }, null, 2));
  }
  return dir;
}

describe("xsmq sim with an MQTT 5.0 project", () => {
  it('"localBroker": "mqtt" and protocol 5: the simulator starts mosquitto and the app connects in 5.0', async () => {
    const dir = await project("shed", "5");
    const r = await runCli(["sim", "--duration", "5", "--json", "--interval", "0.5"], { cwd: dir, env: cleanEnv({}) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("(local mosquitto)");
    expect(r.stderr).toMatch(/esp8266 \| MQTT 5\.0: connected to 127\.0\.0\.1:\d+/);
    expect(r.stderr).toContain("esp8266 | onoff: OFF"); // the dashboard's retained shed/onoff
    const s = JSON.parse(r.stdout);
    expect(s.published).toBeGreaterThan(2);
    expect(s.arrived).toBeGreaterThan(2);
    expect(s.received).toBeGreaterThan(0);
    expect(s.errors).toBe(0);
  });

  it("without mosquitto: an error that says what to install", async () => {
    const dir = await project("attic", "5");
    const r = await runCli(["sim", "--duration", "3"], { cwd: dir, env: cleanEnv({ XSMQ_MOSQUITTO: join(dir, "no-mosquitto") }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("xsmq sim: cannot start the simulation: mosquitto is not installed: apt-get install mosquitto");
    expect(r.stderr).toContain("MQTT 5.0 needs mosquitto");
  });

  it("--local-broker mqtt (aedes) for a 5.0 app: refused with CONNACK 1, and the log says what works", async () => {
    const dir = await project("barn", "5");
    const r = await runCli(["sim", "--duration", "4", "--local-broker", "mqtt"], { cwd: dir, env: cleanEnv({}) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("(local MQTT broker)");
    expect(r.stdout).toContain("esp8266 | sim: the app asks for MQTT 5.0; aedes, the built-in local broker, speaks MQTT 3.1.1 only: MQTT 5.0 needs mosquitto: run with --local-broker mosquitto");
    expect(r.stdout).toContain("CONNACK 0x84 Unsupported Protocol Version (the broker answered in MQTT 3.1.1: it does not speak 5.0; use protocolVersion 4)");
    expect(r.stdout).toMatch(/summary: 0\/1 connected, .*errors [1-9]/);
  });

  it("a sim cut off by its pipe (| head) leaves no mosquitto behind", async () => {
    const dir = await project("porch", "5");
    const child = spawn(process.execPath, [xsmqBin, "sim", "--interval", "0.2"], { cwd: dir, env: cleanEnv({}), stdio: ["ignore", "pipe", "ignore"] });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let out = "";
    child.stdout!.on("data", (d) => { out += d; });
    try {
      await until("the broker line", () => /\(local mosquitto\)/.test(out), 10_000);
    } catch (e) { child.kill("SIGKILL"); throw e; }
    const port = Number(/mqtt:\/\/127\.0\.0\.1:(\d+) \(local mosquitto\)/.exec(out)![1]);
    expect(await listening(port)).toBe(true);
    child.stdout!.destroy(); // as head does once it has its lines: the sim's next write fails with EPIPE
    expect(await exited).not.toBe(0);
    const deadline = Date.now() + 5000;
    while (await listening(port) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await listening(port)).toBe(false);
  });
});

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, "127.0.0.1");
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}
