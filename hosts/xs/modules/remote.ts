// INSIDE XS: calls into the simulated board XSHost keeps in Node (hosts/xs/remote-modules.ts, which runs the
// simulator's own modules: hosts/node/modules). For modules off the per-message path (Wi-Fi, net, preference,
// pins): JSON over the outbox, ArrayBuffers as {$ab: bytes}, callbacks as {$fn: listener id}.
import { Delivery, Request, type RemoteReply, type RemoteRequest } from "../protocol.ts";
import { abort, fromUtf8, nextId, onDelivery, requestText } from "./bridge.ts";

type Listener = (args: unknown[]) => void;

interface Registration { run: Listener; kind: string; once: boolean }

const listeners = new Map<number, Registration>();

function replacer(_key: string, value: unknown): unknown {
  return value instanceof ArrayBuffer ? { $ab: Array.from(new Uint8Array(value)) } : value;
}

/** {$ab} back to an ArrayBuffer; {$u} (an undefined argument) to a hole, which reads as undefined. */
function reviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray((value as { $ab?: unknown }).$ab)) return new Uint8Array((value as { $ab: number[] }).$ab).buffer;
  if ((value as { $u?: unknown }).$u === 1) return undefined;
  return value;
}

/** Runs one request on the board and returns its value, or throws the error it threw (same class and message). */
export function remote(request: RemoteRequest): any {
  const reply = JSON.parse(fromUtf8(requestText(Request.Remote, 0, JSON.stringify(request, replacer))), reviver) as RemoteReply;
  if ("error" in reply) {
    const E = reply.name === "TypeError" ? TypeError : reply.name === "RangeError" ? RangeError : Error;
    throw new E(reply.error);
  }
  return reply.value;
}

/**
 * A callback the board can call: `run` gets the arguments; an exception escaping it aborts the machine
 * (reported as `kind`), as one escaping a native callback does on a device. `once`: forgotten after one call.
 */
export function listen(run: Listener, kind: string, once = false): { $fn: number } {
  const id = nextId();
  listeners.set(id, { run, kind, once });
  return { $fn: id };
}

export function forget(token: { $fn: number } | undefined): void {
  if (token) listeners.delete(token.$fn);
}

onDelivery(Delivery.Event, (id, bytes, length) => {
  const registration = listeners.get(id);
  if (!registration) return;
  if (registration.once) listeners.delete(id);
  const args = JSON.parse(fromUtf8(bytes.subarray(0, length)), reviver) as unknown[];
  try {
    registration.run(args);
  } catch (e) {
    abort(registration.kind, e);
  }
});
