// Runs simulated boards executing an app (the example app, or a project's) against a broker (the local Adafruit
// IO emulator, a local plain MQTT broker, or an external one), with fault injection, a "dashboard", delivery
// tracking and summaries. Used by `xsmq sim`,
// the tests and bench/fleet.bench.ts. Keep per-device host state small: fleets of thousands run in one process.
import { randomBytes } from "node:crypto";
import { Device } from "../board/device.ts";
import { Airwaves, type VirtualAccessPoint } from "../board/airwaves.ts";
import type { AioBroker } from "../aio/broker.ts";
import type { PlainBroker } from "../brokers/plain.ts";
import { MOSQUITTO_FOR_V5, startLocalBroker, type LocalBroker, type LocalBrokerKind } from "./local-broker.ts";
import type { App, AppStatus } from "../../src/app/status.ts";
import { loadApp, type AppEntry } from "./app-entry.ts";
import { sniffPublishes } from "./publish-sniffer.ts";
import { DeliveryTracker, feedOf } from "./latency.ts";
import { Monitor } from "./monitor.ts";
import { RateMeter, type Summary } from "./summary.ts";

export interface SimulationOptions {
  /** Number of simulated boards (default 1). */
  devices?: number;
  /** `mqtt://host:port` of a real broker; default: start a local one (see `localBroker`). */
  broker?: string;
  /** More brokers beside `broker` (e.g. the other nodes of a cluster): device i connects to the (i mod n)-th of
   *  [broker, ...brokers]; the monitoring subscriber stays on `broker`. */
  brokers?: string[];
  /** This simulation runs a slice of a larger fleet (sim/run/fleet.ts), from device `firstDevice` (0-based) of
   *  the fleet: users, client ids and broker choice follow the fleet's numbering, and the monitoring subscriber
   *  watches only this slice's users. */
  firstDevice?: number;
  /** The broker to start without `broker`: "aio" (default), the Adafruit IO emulator; "mqtt", a plain one (aedes,
   *  MQTT 3.1.1); "mosquitto", a real mosquitto (MQTT 5.0 and 3.1.1; it must be installed). */
  localBroker?: LocalBrokerKind;
  /** The devices log in with a key the local broker refuses (CONNACK 5): rehearses a wrong AIO_KEY. */
  wrongKey?: boolean;
  /** More `mc/config` settings for the app (a project's settings); the runner's own keys win. */
  config?: Record<string, string>;
  /** IO user name (default: "xsmq-demo" for one device, one user per device "xsmq-0001"... for a fleet). */
  username?: string;
  /** IO key (password); default: generated for the local broker. */
  key?: string;
  /** ms between readings (default 3000). */
  interval?: number;
  ssid?: string;
  password?: string;
  /** TCP stack limits to simulate (default "esp8266": 2 x 1460-byte send window, 1460-byte reads). */
  board?: "esp8266" | "esp32" | "host";
  /** Added one-way network latency in ms (default 0). */
  latencyMs?: number;
  /** Devices start evenly over this many ms (default: 10 ms per device, at most 20 s). */
  startWindowMs?: number;
  /** Trace lines kept per device (default 12). */
  traceLines?: number;
  /** Every complete trace line of every device. */
  onTrace?: (device: SimDevice, line: string) => void;
  /** The firmware entry (default: `appFile`, else src/app/main.ts). */
  main?: () => App;
  /** The module to load the firmware from (default export `main(): App`). */
  appFile?: string;
  /** Data points per user per minute for the local broker, and `config.rateLimit` for the app's client-side limiter
   *  (default: twice what the interval needs, at least Adafruit IO's free 30). */
  rateLimitPerMinute?: number;
}

export interface SimDevice {
  readonly index: number;
  readonly device: Device;
  readonly username: string;
  readonly clientId: string;
  /** Set once the app started (devices start staggered). */
  app: App | undefined;
  /** Why the app failed to start, if it did. */
  startError: string | undefined;
  /** performance.now() when the app started. */
  startedAt: number;
  /** The last trace lines, oldest first. */
  readonly trace: string[];
}

export interface Faults {
  /** Wi-Fi gone for `forMs`: the access point disappears (all devices), or one device's station is dropped. */
  dropWifi(forMs?: number, index?: number): void;
  /** TCP reset of every connection (of all devices, or one). */
  killConnections(index?: number): void;
  /** Silently swallow all traffic (true) or let it flow again (false). */
  blackhole(on: boolean, index?: number): void;
  /** One-way latency added to every packet. */
  setLatency(ms: number, index?: number): void;
  /** TCP send window in bytes (the ESP8266's is 2 x 1460). */
  setSendWindow(bytes: number, index?: number): void;
  /** Largest chunk per socket read (partial reads). */
  setReadChunk(bytes: number, index?: number): void;
  /** Restarts the local broker (clients are dropped, sessions lost), down for `downMs`. */
  restartBroker(downMs?: number): Promise<void>;
}

export interface Dashboard {
  readonly onoff: string;
  readonly slider: number;
  toggleOnoff(): string;
  moveSlider(delta: number): number;
  /** Writes a value to a feed of every simulated user, as the Adafruit IO web UI would. */
  write(key: string, value: string): void;
}

export interface Simulation {
  readonly devices: SimDevice[];
  readonly air: Airwaves;
  readonly accessPoint: VirtualAccessPoint;
  /** The local Adafruit IO emulator, when it runs. */
  readonly broker: AioBroker | undefined;
  /** The local plain MQTT broker, when it runs. */
  readonly plainBroker: PlainBroker | undefined;
  /** What the local broker is ("local Adafruit IO emulator", "local MQTT broker", "local mosquitto"); undefined with
   *  an external one. */
  readonly localBroker: string | undefined;
  readonly brokerUrl: string;
  /** Why readings are not tracked on an external broker (the monitoring client could not connect), if so. */
  readonly monitorError: string | undefined;
  /** Where the firmware came from: its file, or "options.main". */
  readonly appSource: string;
  /** Readings seen leaving the devices against their arrival; undefined when arrivals cannot be told apart. */
  readonly tracker: DeliveryTracker | undefined;
  readonly faults: Faults;
  readonly dashboard: Dashboard;
  /** Resolves when every device has started its app. */
  readonly ready: Promise<void>;
  statusOf(index: number): AppStatus | undefined;
  summary(): Summary;
  /** Stops every app, the monitor and the local broker. Safe to call twice. */
  stop(): Promise<void>;
}

/** The user name of fleet device `index` (0-based) when no `username` is given: one IO user per device. */
export function fleetUser(index: number): string {
  return `xsmq-${String(index + 1).padStart(4, "0")}`;
}

export async function startSimulation(options: SimulationOptions = {}): Promise<Simulation> {
  const count = Math.max(1, Math.floor(options.devices ?? 1));
  const interval = options.interval ?? 3000;
  const ssid = options.ssid ?? "xsmq-sim";
  const password = options.password ?? "simulated";
  const first = options.firstDevice ?? 0;
  const slice = options.firstDevice !== undefined;
  const fleet = count > 1 || slice;
  const sharedUser = options.username ?? (fleet ? undefined : "xsmq-demo");
  const userOf = (i: number) => sharedUser ?? fleetUser(first + i);
  const key = options.key ?? (options.broker ? "" : `aio_${randomBytes(12).toString("hex")}`);
  const deviceKey = options.wrongKey ? `wrong-${key}` : key;
  const traceLines = options.traceLines ?? 12;
  const started = performance.now();
  const entry: AppEntry = options.main ? { main: options.main, source: "options.main" } : await loadApp(options.appFile);

  // Data points per user per minute that the interval needs (with room for a few extra), at least IO's free 30.
  const ratePerMinute = options.rateLimitPerMinute ?? Math.max(30, Math.ceil((2 * 60_000) / interval));

  // --- broker --------------------------------------------------------------------------------------
  let local: LocalBroker | undefined;
  let host: string, port: number;
  // An external broker's URL says whether the devices use TLS (mqtts://) or not; the local brokers are plain.
  let secure: string | undefined;
  let endpoints: Array<{ host: string; port: number; secure?: string }>;
  if (options.broker) {
    endpoints = [options.broker, ...(options.brokers ?? [])].map((b) => {
      const url = new URL(b);
      if (url.protocol !== "mqtt:" && url.protocol !== "mqtts:") throw new Error(`--broker ${b}: only mqtt://host:port or mqtts://host:port is supported`);
      return { host: url.hostname, port: Number(url.port || (url.protocol === "mqtts:" ? 8883 : 1883)), secure: String(url.protocol === "mqtts:") };
    });
    ({ host, port, secure } = endpoints[0]);
  } else {
    if (options.brokers?.length) throw new Error("brokers needs broker (the first one, where readings are watched)");
    const users: Record<string, string> = {};
    for (let i = 0; i < count; i++) users[userOf(i)] = key;
    local = await startLocalBroker(options.localBroker ?? "aio", { users, rateLimitPerMinute: ratePerMinute, topicPrefix: options.config?.topic });
    host = local.host;
    port = local.port;
    endpoints = [{ host, port }];
  }
  const plain = local !== undefined && local.kind !== "aio";
  const brokerUrl = `${secure === "true" ? "mqtts" : "mqtt"}://${host}:${port}`;

  // --- devices ---------------------------------------------------------------------------------------
  const air = new Airwaves([{ ssid, password, rssi: -58 }]);
  const accessPoint = air.accessPoints[0];
  const devices: SimDevice[] = [];
  const byClientId = new Map<string, SimDevice>();
  const byUser = new Map<string, SimDevice>();
  for (let i = 0; i < count; i++) {
    const username = userOf(i);
    const clientId = `xsmq-sim-${process.pid}-${first + i + 1}`;
    const lines: string[] = [];
    let partial = "";
    const sim: SimDevice = { index: i, device: undefined as unknown as Device, username, clientId, app: undefined, startError: undefined, startedAt: 0, trace: lines };
    const at = endpoints[(first + i) % endpoints.length];
    const device = new Device({
      id: fleet ? `dev${first + i + 1}` : "esp8266",
      config: { ...options.config, ssid, password, broker: at.host, port: String(at.port), ...(at.secure ? { secure: at.secure } : {}), username, key: deviceKey, clientId, interval, rateLimit: ratePerMinute },
      trace: (text) => {
        partial += text;
        let nl: number;
        while ((nl = partial.indexOf("\n")) >= 0) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          lines.push(line);
          if (lines.length > traceLines) lines.shift();
          options.onTrace?.(sim, line);
        }
      },
    });
    (sim as { device: Device }).device = device;
    device.radio.air = air;
    if (options.board !== "host") options.board === "esp32" ? device.network.esp32() : device.network.esp8266();
    device.network.latencyMs = options.latencyMs ?? 0;
    couplePathToRadio(device);
    devices.push(sim);
    byClientId.set(clientId, sim);
    byUser.set(username, sim);
  }

  // --- delivery tracking: a reading leaving a device (sniffed) against its arrival (broker event or monitor) ---
  // On the plain broker a reading is known by its topic; elsewhere by its feed key.
  const readingKey = (topic: string) => (plain ? topic : feedOf(topic)?.key);
  // Arrivals at a local broker name the client; at an external one only the user, which a fleet may share.
  // Over TLS the sniffer sees only records: no delivery tracking then.
  const trackable = (!fleet || sharedUser === undefined || !options.broker) && secure !== "true";
  let tracker = trackable ? new DeliveryTracker() : undefined;
  let sniffers = tracker
    ? devices.map((sim) => {
      let hinted = false;
      return sniffPublishes(sim.device.network, (topic, payload, at) => {
        // The first PUBLISH on the wire follows the first accepted connection; the readings the app had handed
        // to its client by then (a reading sent at once is counted by the app only after this) were queued.
        tracker?.firstConnect(sim.index, at - sim.startedAt, sim.app?.status.published ?? 0);
        const key = readingKey(topic);
        if (key !== undefined) tracker?.published(sim.index, key, payload, at);
      }, {
        // aedes answers a 5.0 CONNECT with CONNACK 1; the app's error says to use 3.1.1, this says what else works.
        onConnect: (level) => {
          if (level !== 5 || local?.kind !== "mqtt" || hinted) return;
          hinted = true;
          sim.device.traceSink(`sim: the app asks for MQTT 5.0; ${MOSQUITTO_FOR_V5}: run with --local-broker mosquitto\n`);
        },
      });
    })
    : [];
  const untap = () => { for (const stop of sniffers) stop(); sniffers = []; };
  const offPublish = local && tracker
    ? local.onReading((clientId, key, value) => {
      if (clientId === undefined) { tracker?.arrivedFromAny(key, value, performance.now()); return; }
      const sim = byClientId.get(clientId);
      if (sim) tracker?.arrivedAt(sim.index, key, value, performance.now());
    })
    : () => {};
  let monitor: Monitor | undefined;
  let monitorError: string | undefined;
  if (options.broker) {
    try {
      monitor = await Monitor.connect({
        // With a key but one user per device, it logs in as the first device (MQTT 3.1.1: no password without a user).
        url: brokerUrl, username: sharedUser ?? (options.key ? userOf(0) : undefined), key: options.key,
        filters: sharedUser ? [`${sharedUser}/feeds/+`] : slice ? [...byUser.keys()].map((u) => `${u}/feeds/+`) : ["+/feeds/+"],
        onMessage: (topic, payload, at) => {
          const feed = feedOf(topic);
          const sim = feed && byUser.get(feed.user);
          if (tracker && feed && sim) tracker.arrivedAt(sim.index, feed.key, payload, at);
        },
      });
    } catch (e) {
      // The apps still run: what they make of the broker (a refused key, say) is what the user needs to see.
      monitorError = (e as Error).message;
      untap();
      tracker = undefined;
    }
  }

  // --- dashboard -------------------------------------------------------------------------------------
  const users = [...new Set(devices.map((d) => d.username))];
  const writeFeed = (feedKey: string, value: string) => {
    for (const user of users) {
      if (local) local.write(user, feedKey, value);
      else monitor?.publish(`${user}/feeds/${feedKey}`, value);
    }
  };
  let onoff = "OFF", slider = 50;
  if (local) { writeFeed("onoff", onoff); writeFeed("slider", String(slider)); }
  const dashboard: Dashboard = {
    get onoff() { return onoff; },
    get slider() { return slider; },
    toggleOnoff() { onoff = onoff === "ON" ? "OFF" : "ON"; writeFeed("onoff", onoff); return onoff; },
    moveSlider(delta) { slider = Math.max(0, Math.min(100, slider + delta)); writeFeed("slider", String(slider)); return slider; },
    write: writeFeed,
  };

  // --- start the apps, staggered -------------------------------------------------------------------------
  let stopped = false;
  const window = options.startWindowMs ?? Math.min(20_000, (count - 1) * 10);
  const timers = new Set<NodeJS.Timeout>();
  const ready = new Promise<void>((resolve) => {
    let left = count;
    devices.forEach((sim, i) => {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!stopped) {
          try {
            sim.startedAt = performance.now();
            sim.app = sim.device.run(() => entry.main());
          } catch (e) {
            sim.startError = (e as Error).message;
            sim.device.traceSink(`app failed to start: ${(e as Error).stack ?? e}\n`);
          }
        }
        if (--left === 0) resolve();
      }, count === 1 ? 0 : Math.round((i * window) / (count - 1)));
      timers.add(t);
    });
  });

  // --- faults --------------------------------------------------------------------------------------------
  const each = (index: number | undefined, fn: (d: Device) => void) => {
    if (index === undefined) for (const sim of devices) fn(sim.device);
    else fn(devices[index].device);
  };
  const faults: Faults = {
    dropWifi(forMs = 5000, index) {
      if (index === undefined) air.disappear(ssid, forMs);
      else devices[index].device.radio.dropped();
    },
    killConnections: (index) => each(index, (d) => d.network.killConnections()),
    blackhole: (on, index) => each(index, (d) => d.network.blackhole(on)),
    setLatency: (ms, index) => each(index, (d) => { d.network.latencyMs = ms; }),
    setSendWindow: (bytes, index) => each(index, (d) => { d.network.sendWindow = bytes; }),
    setReadChunk: (bytes, index) => each(index, (d) => { d.network.maxReadChunk = bytes; }),
    async restartBroker(downMs = 2000) {
      if (!local) throw new Error("the broker is external: restart it yourself");
      await local.restart(downMs);
    },
  };

  // --- summary ---------------------------------------------------------------------------------------------
  const meter = new RateMeter();
  const publishedNow = () => {
    let n = 0;
    for (const sim of devices) n += sim.app?.status.published ?? 0;
    return n;
  };
  const progress = () => (tracker ? tracker.arrived : publishedNow());
  // Sampled every second, so a rate is there even when nobody looks in between.
  const sampler = setInterval(() => meter.sample(performance.now(), progress()), 1000);
  sampler.unref();
  const summary = (): Summary => {
    const s: Summary = {
      devices: count, started: 0, wifiConnected: 0, connected: 0, published: 0, delivered: 0, received: 0,
      reconnects: 0, errors: 0, queued: 0, bytesIn: 0, bytesOut: 0,
      arrived: tracker?.arrived, unconfirmed: tracker?.inFlight,
      latencyP50Ms: tracker?.percentile(50), latencyP99Ms: tracker?.percentile(99),
      backlog: tracker?.backlog, firstConnectP50Ms: tracker?.connectPercentile(50), firstConnectP99Ms: tracker?.connectPercentile(99),
      messagesPerSecond: 0, elapsedS: (performance.now() - started) / 1000,
    };
    for (const sim of devices) {
      s.bytesIn += sim.device.network.bytesIn;
      s.bytesOut += sim.device.network.bytesOut;
      const st = sim.app?.status;
      if (!st) continue;
      s.started++;
      if (st.wifi === "connected") s.wifiConnected++;
      if (st.mqtt === "connected") s.connected++;
      s.published += st.published;
      s.delivered += st.delivered;
      s.received += st.received;
      s.reconnects += st.reconnects;
      s.errors += st.errors;
      s.queued += st.queued;
    }
    s.messagesPerSecond = meter.sample(performance.now(), tracker ? tracker.arrived : s.published);
    return s;
  };

  return {
    devices, air, accessPoint, broker: local?.aio, plainBroker: local?.plain, brokerUrl, appSource: entry.source, faults,
    dashboard, ready, monitorError, localBroker: local?.label,
    get tracker() { return tracker; },
    statusOf: (index) => devices[index]?.app?.status,
    summary,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sampler);
      for (const t of timers) clearTimeout(t);
      for (const sim of devices) {
        try { sim.device.run(() => sim.app?.stop()); } catch { /* a broken app must not keep the others running */ }
      }
      untap();
      offPublish();
      await monitor?.close();
      await local?.close();
    },
  };
}

/** On a board, losing the station's IP takes the network interface down and lwip aborts the TCP connections
 *  bound to the old address; the simulated path follows the radio the same way. */
function couplePathToRadio(device: Device): void {
  const network = device.network;
  network.setLink(false);
  device.radio.addListener((message) => {
    if (message === "gotIP") network.setLink(true);
    else if (message === "disconnect" || message === "lostIP") {
      network.setLink(false);
      network.killConnections();
    }
  });
}
