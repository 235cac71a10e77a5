// The Wi-Fi connect manager (src/wifi) against virtual access points on simulated time, through the real
// simulator modules (wifi, net, timer, preference, mc/config).
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Net from "../hosts/node/modules/net.ts";
import WiFi from "../hosts/node/modules/wifi.ts";
import WiFiManager, { type WiFiManagerEvent, type WiFiManagerOptions } from "../src/wifi/manager.ts";
import { loadAccessPoints, saveAccessPoint } from "../src/wifi/credentials.ts";
import { simulate, type Sim } from "./support/wifi-fixture.ts";

const names: Record<number, string> = {
  [WiFiManager.connecting]: "connecting",
  [WiFiManager.connected]: "connected",
  [WiFiManager.failed]: "failed",
  [WiFiManager.lost]: "lost",
  [WiFiManager.waiting]: "waiting",
  [WiFiManager.gaveUp]: "gaveUp",
};

interface Event { at: number; name: string; values: unknown[] }

/** The fields each kind of event carries, in a fixed order (the event object itself is reused). */
function valuesOf(e: WiFiManagerEvent): unknown[] {
  switch (e.type) {
    case WiFiManager.connecting: return [e.index, e.ssid];
    case WiFiManager.connected: return [e.ip, e.ssid, e.rssi];
    case WiFiManager.failed: return [e.ssid, e.reason];
    case WiFiManager.lost: return [e.ssid];
    case WiFiManager.waiting: return [e.delay, e.rounds];
    case WiFiManager.gaveUp: return [e.rounds];
    default: return [];
  }
}

function manage(sim: Sim, options: WiFiManagerOptions = {}) {
  const events: Event[] = [];
  const link: [number, boolean][] = [];
  const manager = sim.run(() => new WiFiManager(options, function (this: WiFiManager, e) {
    expect(this).toBe(manager);
    events.push({ at: sim.clock.now(), name: names[e.type] ?? `unknown ${e.type}`, values: valuesOf(e) });
  }));
  manager.addLinkListener((up) => link.push([sim.clock.now(), up]));
  /** Events as "name(values)" strings, easy to compare. */
  const log = (filter?: string[]) => events.filter((e) => !filter || filter.includes(e.name)).map((e) => `${e.name}(${e.values.join(",")})`);
  return { manager, events, link, log };
}

describe("WiFiManager", () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

  it("first AP rejects the password, the second works; events in order; passwords never traced", () => {
    const sim = simulate([{ ssid: "first", password: "first-secret-1" }, { ssid: "second", password: "second-secret-2", rssi: -58 }]);
    const { manager, log, link } = manage(sim, { accessPoints: [{ ssid: "first", password: "wrong-secret-9" }, { ssid: "second", password: "second-secret-2" }], trace: true });
    expect(manager.state).toBe("waiting");
    expect(manager.linkUp).toBe(false);
    sim.advance(10000);
    const ip = sim.run(() => Net.get("IP"));
    expect(ip).toMatch(/^192\.168\.11\.\d+$/);
    expect(log()).toEqual([
      "connecting(0,first)",
      "failed(first,password)",
      "connecting(1,second)",
      `connected(${ip},second,-58)`,
    ]);
    expect(manager.state).toBe("connected");
    expect(manager.linkUp).toBe(true);
    expect(link.map((l) => l[1])).toEqual([true]);
    sim.run(() => {
      expect(manager.ip).toBe(ip);
      expect(manager.ssid).toBe("second");
      expect(manager.rssi).toBe(-58);
    });
    const traced = sim.traced.join("");
    expect(traced).toContain('"first"');
    expect(traced).toContain('"second"');
    for (const secret of ["first-secret-1", "wrong-secret-9", "second-secret-2"]) expect(traced).not.toContain(secret);
    manager.close();
  });

  it("no AP for 30 simulated seconds, then it appears: jittered backoff delays grow within bounds, then it connects", () => {
    const sim = simulate([{ ssid: "late", available: false }], { id: "late-device" });
    sim.clock.schedule(() => sim.air.appear("late"), 30000);
    const min = 1000, max = 8000, jitter = 0.5;
    const { manager, events, log } = manage(sim, { accessPoints: [{ ssid: "late" }], backoff: { min, max, jitter }, maxRounds: 0 });
    sim.advance(29999);
    expect(log(["connected"])).toEqual([]);
    sim.advance(30000);

    const waits = events.filter((e) => e.name === "waiting");
    expect(waits.length).toBeGreaterThanOrEqual(4);
    waits.forEach((w, k) => {
      const [delay, round] = w.values as number[];
      const ceiling = Math.min(max, min * 2 ** k);
      expect(round).toBe(k + 1);
      expect(delay).toBeGreaterThanOrEqual(ceiling * (1 - jitter));
      expect(delay).toBeLessThanOrEqual(ceiling);
      // The next attempt starts exactly when the announced delay has passed.
      const next = events[events.indexOf(w) + 1];
      expect(next.name).toBe("connecting");
      expect(next.at - w.at).toBe(delay);
    });
    const delays = waits.map((w) => w.values[0] as number);
    expect(new Set(delays).size).toBeGreaterThan(1);
    expect(delays.some((d, k) => d !== Math.min(max, min * 2 ** k))).toBe(true); // jittered, not the bare ceiling
    expect(Math.max(...delays.slice(0, 3))).toBeLessThan(Math.max(...delays)); // grows
    for (const f of events.filter((e) => e.name === "failed")) expect(f.values).toEqual(["late", "disconnected"]);

    const connected = events.filter((e) => e.name === "connected");
    expect(connected).toHaveLength(1);
    expect(connected[0].at).toBeGreaterThan(30000);
    expect(connected[0].at).toBeLessThanOrEqual(30000 + max + 2000 + 2000 + 250 + 1000 + 1000);
    expect(manager.rounds).toBe(0);
    manager.close();
  });

  it("devices with different MACs do not retry in step", () => {
    const delaysOf = (id: string) => {
      const sim = simulate([], { id });
      const { manager, events } = manage(sim, { accessPoints: [{ ssid: "none" }], backoff: { min: 1000, max: 60000 }, maxRounds: 0 });
      sim.advance(60000);
      manager.close();
      return events.filter((e) => e.name === "waiting").map((e) => e.values[0]);
    };
    const a = delaysOf("device-a"), b = delaysOf("device-b");
    expect(a.length).toBeGreaterThan(3);
    expect(a).not.toEqual(b);
    expect(delaysOf("device-a")).toEqual(a); // same MAC, same sequence: reproducible
  });

  it("the link drops after N seconds and recovers; link listeners follow", () => {
    const sim = simulate([{ ssid: "flaky", dropAfterMs: 10000 }]);
    const { manager, events, log, link } = manage(sim, { accessPoints: [{ ssid: "flaky" }] });
    sim.advance(15000);
    expect(log()).toEqual(["connecting(0,flaky)", expect.stringMatching(/^connected\(.*,flaky,-50\)$/), "lost(flaky)", "connecting(0,flaky)", expect.stringMatching(/^connected/)]);
    const [firstUp, lost] = [events[1], events[2]];
    expect(lost.at - firstUp.at).toBe(10000);
    expect(link.map((l) => l[1])).toEqual([true, false, true]);
    expect(link[1][0]).toBe(lost.at);
    expect(manager.linkUp).toBe(true);
    manager.close();
  });

  it("an outage: lost, failed rounds while the AP is away, connected again when it is back; net values follow", () => {
    const sim = simulate([{ ssid: "home", rssi: -66, channel: 9 }]);
    const { manager, events, log } = manage(sim, { accessPoints: [{ ssid: "home" }], backoff: { min: 1000, max: 4000 } });
    sim.advance(5000);
    sim.run(() => {
      expect(Net.get("IP")).toBe(manager.ip);
      expect(Net.get("IP")).toMatch(/^192\.168\.10\./);
      expect(Net.get("SSID")).toBe("home");
      expect(Net.get("RSSI")).toBe(-66);
      expect(Net.get("CHANNEL")).toBe(9);
      expect(Net.get("MAC")).toBe(sim.device.mac);
    });
    sim.air.disappear("home", 20000);
    sim.advance(1);
    sim.run(() => {
      expect(Net.get("IP")).toBeUndefined();
      expect(Net.get("SSID")).toBeUndefined();
      expect(manager.ip).toBeUndefined();
      expect(manager.linkUp).toBe(false);
    });
    sim.advance(10000);
    expect(manager.rounds).toBeGreaterThan(0);
    sim.advance(20000);
    expect(log(["connected", "lost"]).map((s) => s.split("(")[0])).toEqual(["connected", "lost", "connected"]);
    expect(events.filter((e) => e.name === "waiting").length).toBeGreaterThan(1);
    sim.run(() => expect(Net.get("IP")).toBe(manager.ip));
    manager.close();
  });

  it("no DHCP answer: the attempt times out and the next AP is tried", () => {
    const sim = simulate([{ ssid: "nodhcp", dhcp: false }, { ssid: "good" }]);
    const { manager, events, log } = manage(sim, { accessPoints: [{ ssid: "nodhcp" }, { ssid: "good" }], attemptTimeout: 5000 });
    sim.advance(12000);
    expect(log().map((s) => s.replace(/connected\(.*/, "connected"))).toEqual(["connecting(0,nodhcp)", "failed(nodhcp,timeout)", "connecting(1,good)", "connected"]);
    expect(events[1].at - events[0].at).toBe(5000);
    expect(manager.ssid).toBe("good");
    manager.close();
  });

  it("no DHCP answer reported as lostIP before the timeout fails the attempt as noIP", () => {
    const sim = simulate([{ ssid: "nodhcp", dhcp: false }, { ssid: "good" }], {}, { dhcpTimeoutMs: 4000 });
    const { manager, log } = manage(sim, { accessPoints: [{ ssid: "nodhcp" }, { ssid: "good" }], attemptTimeout: 20000 });
    sim.advance(12000);
    expect(log(["failed", "connected"]).map((s) => s.replace(/connected\(.*/, "connected"))).toEqual(["failed(nodhcp,noIP)", "connected"]);
    manager.close();
  });

  it("scan: tries the configured APs strongest first, unseen ones last", () => {
    const sim = simulate([
      { ssid: "weak", rssi: -80, password: "pw" },
      { ssid: "strong", rssi: -40, password: "other" },
      { ssid: "middle", rssi: -60, password: "other" },
      { ssid: "unrelated", rssi: -30 },
    ]);
    const { manager, log } = manage(sim, {
      accessPoints: [{ ssid: "absent" }, { ssid: "weak", password: "pw" }, { ssid: "strong", password: "x" }, { ssid: "middle", password: "x" }],
      scan: true,
    });
    sim.advance(1000);
    expect(manager.state).toBe("scanning");
    sim.advance(20000);
    expect(log(["connecting", "connected"]).map((s) => s.replace(/connected\(.*/, "connected"))).toEqual([
      "connecting(2,strong)",
      "connecting(3,middle)",
      "connecting(1,weak)",
      "connected",
    ]);
    manager.close();
  });

  it("credentials from mc/config (ssid, ssid2) when none are given", () => {
    const sim = simulate([{ ssid: "cfg-two", password: "pw-two" }], { config: { ssid: "cfg-one", password: "pw-one", ssid2: "cfg-two", password2: "pw-two" } });
    expect(sim.run(() => loadAccessPoints())).toEqual([{ ssid: "cfg-one", password: "pw-one" }, { ssid: "cfg-two", password: "pw-two" }]);
    const { manager, log } = manage(sim);
    sim.advance(10000);
    expect(manager.accessPoints.map((ap) => ap.ssid)).toEqual(["cfg-one", "cfg-two"]);
    expect(log(["failed", "connected"]).map((s) => s.replace(/connected\(.*/, "connected"))).toEqual(["failed(cfg-one,disconnected)", "connected"]);
    expect(manager.ssid).toBe("cfg-two");
    manager.close();
  });

  it("credentials from preference survive a reboot and come before mc/config", () => {
    const dir = mkdtempSync(join(tmpdir(), "xsmq-wifi-"));
    dirs.push(dir);
    const before = simulate([], { preferenceDir: dir });
    before.run(() => saveAccessPoint({ ssid: "saved", password: "saved-pw" }));

    const after = simulate([{ ssid: "saved", password: "saved-pw" }, { ssid: "built-in" }], { preferenceDir: dir, config: { ssid: "built-in" } });
    const { manager, log } = manage(after, { trace: true });
    expect(manager.accessPoints).toEqual([{ ssid: "saved", password: "saved-pw" }, { ssid: "built-in" }]);
    after.advance(5000);
    expect(log(["connecting", "connected"]).map((s) => s.replace(/connected\(.*/, "connected"))).toEqual(["connecting(0,saved)", "connected"]);
    expect(after.traced.join("")).not.toContain("saved-pw");
    manager.close();
  });

  it("gives up after maxRounds: stops when keepTrying is false, and start() begins again", () => {
    const sim = simulate([{ ssid: "home", available: false }]);
    const { manager, events, log } = manage(sim, { accessPoints: [{ ssid: "home" }], maxRounds: 2, keepTrying: false, backoff: { min: 1000, max: 1000 } });
    sim.advance(20000);
    expect(log(["waiting", "gaveUp"]).map((s) => s.split("(")[0])).toEqual(["waiting", "gaveUp"]);
    expect(manager.state).toBe("stopped");
    const count = events.length;
    sim.advance(60000);
    expect(events.length).toBe(count);
    sim.air.appear("home");
    sim.run(() => manager.start());
    sim.advance(5000);
    expect(manager.state).toBe("connected");
    manager.close();
  });

  it("keeps trying after gaveUp by default", () => {
    const sim = simulate([{ ssid: "home", available: false }]);
    sim.clock.schedule(() => sim.air.appear("home"), 40000);
    const { manager, log } = manage(sim, { accessPoints: [{ ssid: "home" }], maxRounds: 3, backoff: { min: 1000, max: 5000 } });
    sim.advance(60000);
    const names = log(["gaveUp", "connected"]).map((s) => s.split("(")[0]);
    expect(names).toEqual(["gaveUp", "connected"]);
    manager.close();
  });

  it("close() stops events, timers and link notifications; the station stays connected", () => {
    const sim = simulate([{ ssid: "home" }]);
    const { manager, events, link } = manage(sim, { accessPoints: [{ ssid: "home" }] });
    sim.advance(5000);
    manager.close();
    expect(manager.state).toBe("closed");
    const [n, l] = [events.length, link.length];
    sim.air.drop();
    sim.advance(60000);
    expect(events.length).toBe(n);
    expect(link.length).toBe(l);
    expect(sim.air.get("home")!.stations.size).toBe(0);
    expect(sim.device.radio.state).toBe("idle"); // nobody reconnected it
  });

  it("adopts a link the platform already made to one of its APs, and still recovers it", () => {
    const sim = simulate([{ ssid: "home" }]);
    sim.run(() => WiFi.connect({ ssid: "home" }));
    sim.advance(3000);
    const ip = sim.run(() => Net.get("IP"));
    expect(ip).toBeDefined();
    const { manager, log } = manage(sim, { accessPoints: [{ ssid: "other" }, { ssid: "home" }] });
    sim.advance(1);
    expect(log()).toEqual([`connected(${ip},home,-50)`]);
    expect(manager.linkUp).toBe(true);
    sim.air.drop("home");
    sim.advance(10000);
    expect(log().map((s) => s.split("(")[0])).toEqual(["connected", "lost", "connecting", "connected"]);
    expect(log()[2]).toBe("connecting(1,home)"); // the AP that worked goes first
    manager.close();
  });

  it("leaves a link to an AP it does not know; that disconnect is not taken for its own attempt", () => {
    const sim = simulate([{ ssid: "neighbour" }, { ssid: "home" }]);
    sim.run(() => WiFi.connect({ ssid: "neighbour" }));
    sim.advance(3000);
    const { manager, log } = manage(sim, { accessPoints: [{ ssid: "home" }] });
    sim.advance(5000);
    expect(log().map((s) => s.replace(/connected\(.*/, "connected"))).toEqual(["connecting(0,home)", "connected"]);
    expect(sim.run(() => Net.get("SSID"))).toBe("home");
    manager.close();
  });

  it("rejects an empty access point list", () => {
    const sim = simulate([]);
    expect(() => sim.run(() => new WiFiManager())).toThrow("no access points");
    expect(() => sim.run(() => new WiFiManager({ accessPoints: [{ ssid: "" }] }))).toThrow("without ssid");
  });
});
