// Our codec driven from plain packet data (the `Fields` shape shared with the mqtt-packet converters).
// No npm imports: XSHost bundles this file into the engine too (test/support/xs/codec.ts).
import { encodeAck, encodeConnect, encodeEmpty, encodePublish, encodeSubscribe, encodeUnsubscribe, PacketType, type ConnectOptions } from "../../src/mqtt/codec.ts";
import { encodeConnack, encodeSuback } from "../../sim/brokers/server-codec.ts";

/** A packet as plain data, close to mqtt-packet's objects; byte fields are number[] so deep equality works. */
export type Fields =
  | { cmd: "connect"; clientId: string; keepalive: number; clean: boolean; username?: string; password?: number[];
      will?: { topic: string; payload: number[]; qos: 0 | 1 | 2; retain: boolean } }
  | { cmd: "connack"; sessionPresent: boolean; returnCode: number }
  | { cmd: "publish"; topic: string; payload: number[]; qos: 0 | 1 | 2; retain: boolean; dup: boolean; messageId?: number }
  | { cmd: "puback" | "pubrec" | "pubrel" | "pubcomp" | "unsuback"; messageId: number }
  | { cmd: "subscribe"; messageId: number; subscriptions: { topic: string; qos: 0 | 1 | 2 }[] }
  | { cmd: "suback"; messageId: number; granted: number[] }
  | { cmd: "unsubscribe"; messageId: number; unsubscriptions: string[] }
  | { cmd: "pingreq" | "pingresp" | "disconnect" };

const ackTypes = { puback: PacketType.PUBACK, pubrec: PacketType.PUBREC, pubrel: PacketType.PUBREL, pubcomp: PacketType.PUBCOMP, unsuback: PacketType.UNSUBACK } as const;
const emptyTypes = { pingreq: PacketType.PINGREQ, pingresp: PacketType.PINGRESP, disconnect: PacketType.DISCONNECT } as const;
/** Encodes `f` with our codec into `buf` at `o`; returns the end offset or a negative ErrorCode. */
export function encodeOurs(buf: Uint8Array, o: number, f: Fields): number {
  switch (f.cmd) {
    case "connect": {
      const c: ConnectOptions = { clientId: f.clientId, keepalive: f.keepalive, cleanSession: f.clean };
      if (f.username !== undefined) c.username = f.username;
      if (f.password !== undefined) c.password = Uint8Array.from(f.password);
      if (f.will) c.will = { topic: f.will.topic, payload: Uint8Array.from(f.will.payload), qos: f.will.qos, retain: f.will.retain };
      return encodeConnect(buf, o, c);
    }
    case "connack": return encodeConnack(buf, o, f.sessionPresent, f.returnCode);
    case "publish":
      return encodePublish(buf, o, f.topic, Uint8Array.from(f.payload), f.qos, f.retain, f.dup, f.messageId ?? 0);
    case "puback": case "pubrec": case "pubrel": case "pubcomp": case "unsuback":
      return encodeAck(buf, o, ackTypes[f.cmd], f.messageId);
    case "subscribe":
      if (f.subscriptions.length !== 1) throw new Error("our encoder writes one filter per SUBSCRIBE");
      return encodeSubscribe(buf, o, f.messageId, f.subscriptions[0].topic, f.subscriptions[0].qos);
    case "suback": return encodeSuback(buf, o, f.messageId, f.granted, f.granted.length);
    case "unsubscribe":
      if (f.unsubscriptions.length !== 1) throw new Error("our encoder writes one filter per UNSUBSCRIBE");
      return encodeUnsubscribe(buf, o, f.messageId, f.unsubscriptions[0]);
    case "pingreq": case "pingresp": case "disconnect":
      return encodeEmpty(buf, o, emptyTypes[f.cmd]);
  }
}

