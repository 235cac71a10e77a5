// Sees what a device publishes without touching its code: the PUBLISH packets its connections send, decoded
// from the bytes as they leave its TCP stack (sim/board's sniffer hook), for delivery-latency matching.
// A resend (DUP) is the same reading again and is not reported twice. Each connection's CONNECT says its level:
// an MQTT 5.0 PUBLISH carries properties before its payload, and may name its topic by a Topic Alias set earlier
// on the same connection.
import { PacketType, ReadStatus } from "../../src/mqtt/codec.ts";
import type { NetworkConditions, NetworkEndpoint } from "../board/network.ts";
import { PushReader, ServerPacket, decodeAny } from "../brokers/server-codec.ts";

export type PublishListener = (topic: string, payload: string, at: number) => void;

/** Adafruit IO values are at most 1 KB; a larger PUBLISH is passed over. */
const CAPACITY = 2048;

const text = new TextDecoder();

/** What the sniffer keeps per connection. */
interface Stream {
  readonly reader: PushReader;
  /** The CONNECT asked for MQTT 5.0. */
  v5: boolean;
  /** Topic Alias -> topic (5.0), as this connection set them. */
  aliases: Map<number, string> | undefined;
}

export interface SniffOptions {
  /** A connection's CONNECT left, asking for `level` (3: MQTT 3.1, 4: 3.1.1, 5: 5.0). */
  onConnect?: (level: number) => void;
}

/** Calls `listener` for every PUBLISH `network`'s connections send from now on; returns a function that stops it. */
export function sniffPublishes(network: NetworkConditions, listener: PublishListener, options: SniffOptions = {}): () => void {
  const streams = new WeakMap<NetworkEndpoint, Stream | null>();
  const packet = new ServerPacket();
  network.sniffer = (endpoint, bytes) => {
    let stream = streams.get(endpoint);
    if (stream === null) return;
    if (stream === undefined) streams.set(endpoint, stream = { reader: new PushReader(CAPACITY), v5: false, aliases: undefined });
    const reader = stream.reader;
    const at = performance.now();
    for (let i = 0; i < bytes.length;) {
      const status = reader.push(bytes, i, bytes.length);
      i += reader.consumed;
      if (status < 0) {  // not MQTT: nothing more to learn from this connection
        streams.set(endpoint, null);
        return;
      }
      if (status !== ReadStatus.Complete || reader.truncated) continue;
      if (reader.type === PacketType.CONNECT) {
        packet.v5 = false;
        if (decodeAny(reader, packet) < 0) continue;
        const level = packet.connect!.protocolLevel;
        stream.v5 = level === 5;
        options.onConnect?.(level);
        continue;
      }
      if (reader.type !== PacketType.PUBLISH) continue;
      packet.v5 = stream.v5;
      if (decodeAny(reader, packet) < 0) continue;
      const b = packet.buf;
      let topic = packet.topicEnd > packet.topicStart ? text.decode(b.subarray(packet.topicStart, packet.topicEnd)) : "";
      if (stream.v5 && packet.topicAlias !== 0) {  // a 3.1.1 decode leaves topicAlias as it was
        const aliases = stream.aliases ??= new Map();
        if (topic) aliases.set(packet.topicAlias, topic);
        else topic = aliases.get(packet.topicAlias) ?? "";
      }
      if (!topic || packet.dup) continue;  // an alias never set: the broker would refuse it too
      listener(topic, text.decode(b.subarray(packet.payloadStart, packet.payloadEnd)), at);
    }
  };
  return () => { network.sniffer = undefined; };
}
