// INSIDE XS: routes the Node side's connection deliveries (one id space for `socket` and `embedded:io/socket/tcp`)
// to the object that owns the connection. One entry per connection; routing allocates nothing.
import { Delivery, readU32 } from "../protocol.ts";
import { onDelivery } from "./bridge.ts";

export interface Receiver<T> {
  /** `bytes[0..length)`: "address:port" of the peer, or nothing when a refused connection is reported as made. */
  connected(target: T, bytes: Uint8Array, length: number): void;
  /** One segment: `bytes[0..length)`. */
  data(target: T, bytes: Uint8Array, length: number): void;
  /** `count` written bytes were acknowledged. */
  sent(target: T, count: number): void;
  /** The peer closed (false) or the connection failed (true). */
  ended(target: T, failed: boolean): void;
}

interface Entry { target: unknown; receiver: Receiver<unknown> }

const entries = new Map<number, Entry>();

export function register<T>(id: number, target: T, receiver: Receiver<T>): void {
  entries.set(id, { target, receiver: receiver as Receiver<unknown> });
}

export function unregister(id: number): void {
  entries.delete(id);
}

onDelivery(Delivery.Connected, (id, bytes, length) => { const e = entries.get(id); if (e) e.receiver.connected(e.target, bytes, length); });
onDelivery(Delivery.Data, (id, bytes, length) => { const e = entries.get(id); if (e) e.receiver.data(e.target, bytes, length); });
onDelivery(Delivery.Sent, (id, bytes) => { const e = entries.get(id); if (e) e.receiver.sent(e.target, readU32(bytes, 0)); });
onDelivery(Delivery.DataSent, (id, bytes, length) => {
  const e = entries.get(id);
  if (!e) return;
  const n = length - 4;
  e.receiver.data(e.target, bytes, n); // as lwIP delivers them: what arrived, then what was acknowledged
  e.receiver.sent(e.target, readU32(bytes, n));
});
onDelivery(Delivery.Disconnected, (id) => { const e = entries.get(id); if (e) e.receiver.ended(e.target, false); });
onDelivery(Delivery.Error, (id) => { const e = entries.get(id); if (e) e.receiver.ended(e.target, true); });

/** "address:port" -> [address, port]. */
export function peerOf(text: string): [string, number] {
  const colon = text.lastIndexOf(":");
  return [text.slice(0, colon), Number(text.slice(colon + 1))];
}
