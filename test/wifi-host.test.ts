// The simulator's wifi, net, preference and mc/config modules behave as Moddable's ESP8266 ports do,
// driven by virtual access points on a virtual clock.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// The simulator's modules themselves (their whole runtime API), not types/, which declares only what the
// SDK's typings do.
import WiFi from "../hosts/node/modules/wifi.ts";
import Net from "../hosts/node/modules/net.ts";
import Preference from "preference";
import config from "mc/config";
import { Device } from "../sim/board/device.ts";
import { simulate, type Sim } from "./support/wifi-fixture.ts";

type Seen = [number, string, number?];

/** Opens a WiFi monitor on the device; returns the events with their simulated times. */
function monitor(sim: Sim, options?: { ssid: string; password?: string }): { wifi: WiFi; events: Seen[] } {
  const events: Seen[] = [];
  const wifi = sim.run(() => new WiFi(options as any, function (this: WiFi, message, value) {
    expect(this).toBe(wifi);
    events.push(value === undefined ? [sim.clock.now(), message] : [sim.clock.now(), message, value]);
  }));
  return { wifi, events };
}

describe("wifi module on virtual access points", () => {
  it("connects: connect then gotIP, with the AP's delays; Net reports the link", () => {
    const sim = simulate([{ ssid: "home", password: "secret-pw", rssi: -61, channel: 6, associateMs: 800, dhcpMs: 1500 }]);
    const { events } = monitor(sim, { ssid: "home", password: "secret-pw" });
    expect(sim.run(() => Net.get("IP"))).toBeUndefined();
    sim.advance(5000);
    expect(events).toEqual([[800, "connect"], [2300, "gotIP"]]);
    sim.run(() => {
      expect(Net.get("IP")).toMatch(/^192\.168\.10\.\d+$/);
      expect(Net.get("SSID")).toBe("home");
      expect(Net.get("RSSI")).toBe(-61);
      expect(Net.get("CHANNEL")).toBe(6);
      expect(Net.get("BSSID")).toBe(sim.air.get("home")!.bssid);
      expect(Net.get("MAC")).toBe(sim.device.mac);
      expect(Net.get("MAC")).toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
      expect(Net.get("DNS")).toEqual(["192.168.10.1"]);
    });
    sim.air.setRssi("home", -70);
    expect(sim.run(() => Net.get("RSSI"))).toBe(-70);
  });

  it("rejects a wrong password with disconnect -1 and never gives an IP", () => {
    const sim = simulate([{ ssid: "home", password: "right" }]);
    const { events } = monitor(sim, { ssid: "home", password: "wrong" });
    sim.advance(10000);
    expect(events).toEqual([[1000, "disconnect", -1]]);
    expect(sim.run(() => Net.get("IP"))).toBeUndefined();
    expect(sim.run(() => Net.get("SSID"))).toBeUndefined();
  });

  it("reports disconnect 0 for an SSID nobody answers, or one too weak to join", () => {
    const sim = simulate([{ ssid: "far", rssi: -93 }], {}, { notFoundMs: 3000 });
    const { events } = monitor(sim, { ssid: "nowhere" });
    sim.advance(5000);
    sim.run(() => WiFi.connect({ ssid: "far" }));
    sim.advance(5000);
    expect(events).toEqual([[3000, "disconnect", 0], [8000, "disconnect", 0]]);
  });

  it("without a DHCP answer: connect, then lostIP after the DHCP timeout, still no IP", () => {
    const sim = simulate([{ ssid: "nodhcp", dhcp: false }], {}, { dhcpTimeoutMs: 7000 });
    const { events } = monitor(sim, { ssid: "nodhcp" });
    sim.advance(20000);
    expect(events).toEqual([[1000, "connect"], [8000, "lostIP"]]);
    expect(sim.run(() => Net.get("IP"))).toBeUndefined();
    expect(sim.run(() => Net.get("SSID"))).toBe("nodhcp");
  });

  it("drops stations after dropAfterMs, and when the AP disappears; an outage ends by itself", () => {
    const sim = simulate([{ ssid: "flaky", dropAfterMs: 10000 }, { ssid: "steady" }]);
    const { events } = monitor(sim, { ssid: "flaky" });
    sim.advance(12000 + 1);
    expect(events).toEqual([[1000, "connect"], [2000, "gotIP"], [12000, "disconnect", 0]]);
    expect(sim.run(() => Net.get("IP"))).toBeUndefined();

    events.length = 0;
    sim.run(() => WiFi.connect({ ssid: "steady" }));
    sim.advance(3000);
    sim.air.disappear("steady", 5000);
    sim.advance(1);
    expect(events.map((e) => e[1])).toEqual(["connect", "gotIP", "disconnect"]);
    sim.run(() => WiFi.connect({ ssid: "steady" }));
    sim.advance(3000);
    expect(events.at(-1)).toEqual([sim.clock.now() - 1000, "disconnect", 0]);
    sim.advance(3000); // outage over
    sim.run(() => WiFi.connect({ ssid: "steady" }));
    sim.advance(3000);
    expect(events.slice(-2).map((e) => e[1])).toEqual(["connect", "gotIP"]);
  });

  it("WiFi.disconnect of an association posts disconnect 0; close stops callbacks; callback can be replaced", () => {
    const sim = simulate([{ ssid: "home" }]);
    const { wifi, events } = monitor(sim, { ssid: "home" });
    sim.advance(3000);
    sim.run(() => WiFi.disconnect());
    sim.advance(1);
    expect(events.map((e) => e.slice(1))).toEqual([["connect"], ["gotIP"], ["disconnect", 0]]);
    const other: string[] = [];
    wifi.callback = (message) => { other.push(message); };
    sim.run(() => WiFi.connect({ ssid: "home" }));
    sim.advance(1500);
    wifi.close();
    sim.advance(3000);
    expect(other).toEqual(["connect"]);
    expect(events).toHaveLength(3);
    expect(sim.run(() => Net.get("IP"))).toBeDefined(); // close does not disconnect
  });

  it("validates like the ESP8266 port", () => {
    const sim = simulate([]);
    sim.run(() => {
      expect(() => WiFi.connect({ ssid: "" })).toThrow("ssid required");
      expect(() => WiFi.connect({ ssid: "x".repeat(33) })).toThrow("32 bytes");
      expect(() => WiFi.connect({ ssid: "a", password: "p".repeat(65) })).toThrow("64 bytes");
      expect(() => WiFi.connect({ ssid: "a", bssid: new ArrayBuffer(5) })).toThrow("6 bytes");
      expect(() => (WiFi as any).close()).toThrow("WiFi.disconnect");
      expect(() => { WiFi.mode = 7; }).toThrow();
      expect(WiFi.connected).toBe("connect");
      expect(WiFi.disconnected).toBe("disconnect");
      expect(WiFi.gotIP).toBe("gotIP");
      expect(WiFi.lostIP).toBe("lostIP");
      expect(WiFi.Mode).toEqual({ none: 0, station: 1, accessPoint: 2 });
    });
  });

  it("connects to the BSSID asked for", () => {
    const sim = simulate([{ ssid: "mesh", rssi: -40, bssid: "02:00:00:00:00:01" }, { ssid: "mesh", rssi: -70, bssid: "02:00:00:00:00:02" }]);
    monitor(sim, { ssid: "mesh" });
    sim.advance(3000);
    expect(sim.run(() => Net.get("BSSID"))).toBe("02:00:00:00:00:01");
    sim.run(() => WiFi.connect({ ssid: "mesh", bssid: new Uint8Array([2, 0, 0, 0, 0, 2]).buffer }));
    sim.advance(3000);
    expect(sim.run(() => Net.get("BSSID"))).toBe("02:00:00:00:00:02");
  });

  it("scans: one item per AP in range, then null; hidden only on request; one scan at a time", () => {
    const sim = simulate([
      { ssid: "open", rssi: -40, channel: 1 },
      { ssid: "wpa", password: "pw", rssi: -70, channel: 6, bssid: "02:11:22:33:44:55" },
      { ssid: "ghost", hidden: true, rssi: -50, channel: 6 },
      { ssid: "off", available: false },
      { ssid: "faint", rssi: -101 },
    ]);
    const items: any[] = [];
    sim.run(() => WiFi.scan({}, (item) => { items.push(item); }));
    expect(() => sim.run(() => WiFi.scan({}, () => {}))).toThrow("scan pending");
    sim.advance(1999);
    expect(items).toEqual([]);
    sim.advance(1);
    expect(items.at(-1)).toBeNull();
    expect(items.slice(0, -1).map((i) => [i.ssid, i.rssi, i.channel, i.authentication, i.hidden])).toEqual([
      ["open", -40, 1, "none", false],
      ["wpa", -70, 6, "wpa2_psk", false],
    ]);
    expect([...new Uint8Array(items[1].bssid)]).toEqual([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);

    const hidden: any[] = [];
    sim.run(() => WiFi.scan({ hidden: true, channel: 6 }, (item) => { hidden.push(item); }));
    sim.advance(2000);
    expect(hidden.map((i) => i && [i.ssid, i.hidden])).toEqual([["wpa", false], ["", true], null]);

    sim.run(() => { WiFi.mode = WiFi.Mode.none; });
    expect(() => sim.run(() => WiFi.scan({}, () => {}))).toThrow("can't scan");
  });

  it("mode and soft-AP: IP/MAC per interface, ambiguous in station+AP mode", () => {
    const sim = simulate([{ ssid: "home" }]);
    sim.run(() => {
      expect(WiFi.mode).toBe(1);
      expect(() => WiFi.accessPoint({ ssid: "me", password: "short" })).toThrow("8 bytes");
      WiFi.accessPoint({ ssid: "me", password: "long-enough", channel: 11, station: true });
      expect(WiFi.mode).toBe(3);
      expect(Net.get("IP")).toBeUndefined();
      expect(Net.get("MAC")).toBeUndefined();
      expect(Net.get("IP", "ap")).toBe("192.168.4.1");
      expect(Net.get("MAC", "station")).toBe(sim.device.mac);
      expect(Net.get("MAC", "ap")).not.toBe(sim.device.mac);
      WiFi.accessPoint({ ssid: "me" });
      expect(WiFi.mode).toBe(2);
      expect(Net.get("IP")).toBe("192.168.4.1");
      expect(Net.get("IP", "station")).toBeUndefined();
    });
  });

  it("each device has its own radio", () => {
    const a = simulate([{ ssid: "home" }]);
    const b = simulate([{ ssid: "home" }], {}, {}, a.clock);
    b.device.radio.air = a.air;
    monitor(a, { ssid: "home" });
    a.advance(3000);
    expect(a.run(() => Net.get("IP"))).toBeDefined();
    expect(b.run(() => Net.get("IP"))).toBeUndefined();
    expect(a.air.get("home")!.stations.size).toBe(1);
  });

  it("Net.resolve answers with an address for localhost and an IP literal, undefined for an invalid name", async () => {
    const sim = simulate([]);
    const answers = await new Promise<[string, string | undefined][]>((resolve) => {
      const got: [string, string | undefined][] = [];
      const done = (name: string, address: string | undefined) => { got.push([name, address]); if (got.length === 3) resolve(got); };
      sim.run(() => {
        Net.resolve("localhost", done);
        Net.resolve("127.0.0.1", done);
        Net.resolve("no-such-host.invalid", done);
      });
      sim.advance(1);
    });
    const byName = Object.fromEntries(answers);
    expect(byName["localhost"]).toMatch(/^127\./);
    expect(byName["127.0.0.1"]).toBe("127.0.0.1");
    expect(byName["no-such-host.invalid"]).toBeUndefined();
  });
});

describe("preference module", () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

  it("stores booleans, integers, strings and ArrayBuffers per domain; rejects what the ESP8266 rejects", () => {
    const device = new Device({ trace: () => {} });
    device.run(() => {
      Preference.set("app", "flag", true);
      Preference.set("app", "count", -42);
      Preference.set("app", "name", "ünï");
      Preference.set("app", "blob", new Uint8Array([1, 2, 255]).buffer);
      expect(Preference.get("app", "flag")).toBe(true);
      expect(Preference.get("app", "count")).toBe(-42);
      expect(Preference.get("app", "name")).toBe("ünï");
      const blob = Preference.get("app", "blob");
      expect(blob).toBeInstanceOf(ArrayBuffer);
      expect([...new Uint8Array(blob as ArrayBuffer)]).toEqual([1, 2, 255]);
      expect(Preference.keys("app").sort()).toEqual(["blob", "count", "flag", "name"]);
      expect(Preference.get("app", "missing")).toBeUndefined();
      expect(Preference.keys("nothing")).toEqual([]);
      Preference.delete("app", "flag");
      Preference.delete("app", "never-set");
      expect(Preference.get("app", "flag")).toBeUndefined();

      expect(() => Preference.set("app", "f", 1.5)).toThrow("float unsupported");
      expect(() => Preference.set("d".repeat(32), "k", 1)).toThrow("too long");
      expect(() => Preference.set("d", "k".repeat(32), 1)).toThrow("too long");
      expect(() => Preference.set("d", "k", "v".repeat(63))).toThrow("can't save prefs");
      Preference.set("d", "k", "v".repeat(62));
      expect(() => Preference.set("d", "k", {} as any)).toThrow("unsupported type");
    });
    const other = new Device({ trace: () => {} });
    expect(other.run(() => Preference.get("app", "count"))).toBeUndefined();
  });

  it("persists to <preferenceDir>/preferences.json across a reboot (a new device with the same dir)", () => {
    const dir = mkdtempSync(join(tmpdir(), "xsmq-pref-"));
    dirs.push(dir);
    new Device({ preferenceDir: dir, trace: () => {} }).run(() => {
      Preference.set("wifi", "ssid", "home");
      Preference.set("wifi", "n", 7);
      Preference.set("wifi", "raw", new Uint8Array([9, 8]).buffer);
    });
    expect(JSON.parse(readFileSync(join(dir, "preferences.json"), "utf8")).wifi.ssid).toBe("home");
    new Device({ preferenceDir: dir, trace: () => {} }).run(() => {
      expect(Preference.get("wifi", "ssid")).toBe("home");
      expect(Preference.get("wifi", "n")).toBe(7);
      expect([...new Uint8Array(Preference.get("wifi", "raw") as ArrayBuffer)]).toEqual([9, 8]);
      Preference.delete("wifi", "n");
    });
    expect(new Device({ preferenceDir: dir, trace: () => {} }).run(() => Preference.keys("wifi").sort())).toEqual(["raw", "ssid"]);
  });
});

describe("mc/config module", () => {
  it("shows the current device's config, read-only", () => {
    const a = new Device({ config: { ssid: "a-net", port: "1883" }, trace: () => {} });
    const b = new Device({ config: { ssid: "b-net" }, trace: () => {} });
    expect(a.run(() => config.ssid)).toBe("a-net");
    expect(b.run(() => config.ssid)).toBe("b-net");
    expect(a.run(() => Number(config.port))).toBe(1883);
    expect(b.run(() => config.port)).toBeUndefined();
    expect(a.run(() => Object.keys(config).sort())).toEqual(["port", "ssid"]);
    expect(a.run(() => "ssid" in config)).toBe(true);
    expect(b.run(() => "port" in config)).toBe(false);
    expect(() => a.run(() => { (config as any).ssid = "x"; })).toThrow(TypeError);
    expect(a.run(() => config.ssid)).toBe("a-net");
  });
});
