// Wi-Fi and MQTT together on a simulated board (issue 4): QoS 1 messages queued while the link is down are
// delivered after recovery, none lost; no reconnect attempts while there is no IP; a prompt reconnect once there is.
import { afterEach, describe, expect, it } from "vitest";
import WiFiManager from "../src/wifi/manager.ts";
import { MQTTClient } from "../src/mqtt/client.ts";
import { world, type World } from "./support/app-sim.ts";

const USER = "board", KEY = "aio_board_key";
let w: World | undefined;
const cleanup: Array<() => void> = [];

afterEach(async () => {
  for (const c of cleanup.splice(0)) c();
  await w?.close();
  w = undefined;
});

async function setup(wire: boolean) {
  w = await world([{ ssid: "net", password: "net-pass-1" }], { id: wire ? "wired-board" : "unwired-board" }, { users: { [USER]: KEY }, timeTopics: false });
  const sim = w;
  const linkEvents: Array<[number, boolean]> = [];
  const attempts: number[] = [];
  sim.device.network.onChange((event) => { if (event === "open") attempts.push(sim.clock.now()); });
  const { wifi, client } = sim.run(() => {
    const wifi = new WiFiManager({ accessPoints: [{ ssid: "net", password: "net-pass-1" }], backoff: { min: 1000, max: 4000 } });
    const client = new MQTTClient({ host: "127.0.0.1", port: sim.broker.port, clientId: "wifi-mqtt", username: USER, password: KEY,
      keepalive: 10, queue: 4096, inflight: 4, connect: false, reconnect: { min: 1000, max: 4000 } });
    client.setLink(false); // no IP yet: the first connect waits for the link
    wifi.addLinkListener((up) => {
      linkEvents.push([sim.clock.now(), up]);
      if (wire) client.setLink(up);
    });
    if (!wire) client.setLink(true); // a client left alone: it tries whatever the radio does
    return { wifi, client };
  });
  cleanup.push(() => { client.close(); wifi.close(); });
  const delivered: number[] = [];
  client.onDelivered = (id) => delivered.push(id);
  return { sim, wifi, client, linkEvents, attempts, delivered };
}

const history = (w: World) => w.broker.feed(USER, "seq")?.history.map((p) => Number(p.value)) ?? [];

describe("Wi-Fi link and MQTT client", () => {
  it("queued QoS 1 messages survive a 30 s outage; no attempts without IP; reconnects at once when the IP is back", async () => {
    const { sim, wifi, client, linkEvents, attempts, delivered } = await setup(true);
    await sim.passUntil("MQTT connected", () => client.connected, 20_000);
    expect(attempts.length).toBe(1);
    for (let i = 0; i < 5; i++) sim.run(() => client.publish(`${USER}/feeds/seq`, i, 1));
    await sim.passUntil("first 5 acknowledged", () => delivered.length === 5);

    sim.air.disappear("net", 30_000);
    await sim.passUntil("link down", () => !wifi.linkUp);
    const downAt = sim.clock.now();
    for (let i = 5; i < 25; i++) sim.run(() => client.publish(`${USER}/feeds/seq`, i, 1));
    expect(client.session.queued).toBeGreaterThan(0);
    await sim.pass(25_000);
    // 25 s without an IP: the dead connection was noticed (keepalive 10 s), and not one new attempt was made.
    expect(client.connected).toBe(false);
    expect(attempts.filter((t) => t > downAt)).toEqual([]);

    await sim.passUntil("link up again", () => wifi.linkUp, 30_000);
    const upAt = linkEvents[linkEvents.length - 1][0];
    expect(linkEvents.map((e) => e[1])).toEqual([true, false, true]);
    await sim.passUntil("reconnected", () => client.connected, 5000);
    expect(attempts.filter((t) => t > downAt)).toEqual([upAt]); // one attempt, the moment the IP came back
    await sim.passUntil("all 25 acknowledged", () => delivered.length >= 25 && client.session.queued === 0, 10_000);
    expect([...new Set(history(sim))]).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it("control: a client not told about the link keeps trying while there is no IP (what the wiring prevents)", async () => {
    const { sim, wifi, client, attempts } = await setup(false);
    await sim.passUntil("MQTT connected", () => client.connected, 20_000);
    sim.air.disappear("net", 60_000);
    await sim.passUntil("link down", () => !wifi.linkUp);
    const downAt = sim.clock.now();
    client.disconnect(); // the connection died with the IP
    await sim.pass(25_000);
    expect(attempts.filter((t) => t > downAt).length).toBeGreaterThanOrEqual(5);
  });
});
