// Watches the firmware's MQTTClient.publish calls from the host side (the firmware is not changed): each
// accepted publish to a feed topic is reported with the device that made it, for delivery-latency matching.
import { MQTTClient } from "../../../src/mqtt/client.ts";
import { currentBoard, type Board } from "../board.ts";

export type PublishListener = (device: Board, topic: string, payload: string, at: number) => void;

const listeners = new Set<PublishListener>();
let installed = false;

/** Calls `listener` after every accepted publish of every device in this process; returns an unsubscribe function. */
export function tapPublishes(listener: PublishListener): () => void {
  if (!installed) install();
  listeners.add(listener);
  return () => { listeners.delete(listener); };
}

function install(): void {
  installed = true;
  const original = MQTTClient.prototype.publish;
  MQTTClient.prototype.publish = function (this: MQTTClient, topic, payload, options, retain) {
    const result = original.call(this, topic, payload, options, retain);
    if (result >= 0 && listeners.size > 0) {
      const at = performance.now();
      const text = typeof payload === "string" ? payload : typeof payload === "number" ? String(payload)
        : payload === null ? "" : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8");
      const device = currentBoard();
      const name = typeof topic === "string" ? topic : topic.name;
      for (const l of listeners) l(device, name, text, at);
    }
    return result;
  };
}
