// The simulator sees readings as they leave a device's TCP stack: PUBLISH packets decoded from the bytes its
// connections send, whatever the chunking, once each (a DUP resend is the same reading), per connection.
import { describe, expect, it } from "vitest";
import { encodeAck, encodePublish, PacketType } from "../src/mqtt/codec.ts";
import { NetworkConditions, type NetworkEndpoint } from "../sim/board/network.ts";
import { VirtualClock } from "../sim/board/clock.ts";
import { sniffPublishes } from "../sim/run/publish-sniffer.ts";

const endpoint = (): NetworkEndpoint => ({ isOpen: true, pathChanged() {}, reset() {} });

function bytes(...packets: ((buf: Uint8Array) => number)[]): Uint8Array {
  const buf = new Uint8Array(4096);
  let o = 0;
  for (const p of packets) o = p(buf.subarray(o)) + o;
  return buf.slice(0, o);
}

describe("sniffPublishes", () => {
  it("reports each PUBLISH once, across chunk boundaries, skipping other packets and DUP resends", () => {
    const network = new NetworkConditions(new VirtualClock());
    const seen: string[] = [];
    const stop = sniffPublishes(network, (topic, payload) => seen.push(`${topic}=${payload}`));
    const stream = bytes(
      (b) => encodePublish(b, 0, "u/feeds/photocell", "512", 1, false, false, 7),
      (b) => encodeAck(b, 0, PacketType.PUBACK, 3),
      (b) => encodePublish(b, 0, "u/feeds/photocell", "512", 1, false, true, 7),
      (b) => encodePublish(b, 0, "u/feeds/onoff", "ON", 0, false, false, 0),
    );
    const a = endpoint(), other = endpoint();
    for (let i = 0; i < stream.length; i += 5) network.sniffer!(a, stream.subarray(i, i + 5));
    network.sniffer!(other, stream.subarray(0, 10));  // another connection's partial packet stays its own
    expect(seen).toEqual(["u/feeds/photocell=512", "u/feeds/onoff=ON"]);
    stop();
    expect(network.sniffer).toBeUndefined();
  });

  it("stops reading a connection that does not speak MQTT", () => {
    const network = new NetworkConditions(new VirtualClock());
    const seen: string[] = [];
    sniffPublishes(network, (topic) => seen.push(topic));
    const e = endpoint();
    network.sniffer!(e, Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01));  // a remaining length of five bytes
    network.sniffer!(e, bytes((b) => encodePublish(b, 0, "u/feeds/x", "1", 0, false, false, 0)));
    expect(seen).toEqual([]);
  });
});
