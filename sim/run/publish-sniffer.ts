// Sees what a device publishes without touching its code: the PUBLISH packets its connections send, decoded
// from the bytes as they leave its TCP stack (sim/board's sniffer hook), for delivery-latency matching.
// A resend (DUP) is the same reading again and is not reported twice.
import { Packet, PacketType, ReadStatus, decode } from "../../src/mqtt/codec.ts";
import type { NetworkConditions, NetworkEndpoint } from "../board/network.ts";
import { PushReader } from "../brokers/server-codec.ts";

export type PublishListener = (topic: string, payload: string, at: number) => void;

/** Adafruit IO values are at most 1 KB; a larger PUBLISH is passed over. */
const CAPACITY = 2048;

const text = new TextDecoder();

/** Calls `listener` for every PUBLISH `network`'s connections send from now on; returns a function that stops it. */
export function sniffPublishes(network: NetworkConditions, listener: PublishListener): () => void {
  const readers = new WeakMap<NetworkEndpoint, PushReader | null>();
  const packet = new Packet();
  network.sniffer = (endpoint, bytes) => {
    let reader = readers.get(endpoint);
    if (reader === null) return;
    if (reader === undefined) readers.set(endpoint, reader = new PushReader(CAPACITY));
    const at = performance.now();
    for (let i = 0; i < bytes.length;) {
      const status = reader.push(bytes, i, bytes.length);
      i += reader.consumed;
      if (status < 0) {  // not MQTT: nothing more to learn from this connection
        readers.set(endpoint, null);
        return;
      }
      if (status !== ReadStatus.Complete || reader.type !== PacketType.PUBLISH || reader.truncated) continue;
      if (decode(reader, packet) < 0 || packet.dup) continue;
      const b = packet.buf;
      listener(text.decode(b.subarray(packet.topicStart, packet.topicEnd)), text.decode(b.subarray(packet.payloadStart, packet.payloadEnd)), at);
    }
  };
  return () => { network.sniffer = undefined; };
}
