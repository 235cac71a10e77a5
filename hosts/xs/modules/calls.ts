// INSIDE XS: lets the Node side (XSHost, sim/xs/host.ts) call the functions a bundle's entry exports, and hear
// their results (a returned promise is awaited; XS runs its promise jobs at the end of each crank).
import { Delivery, Request } from "../protocol.ts";
import { fromUtf8, onDelivery, sendText } from "./bridge.ts";

export function serveCalls(entry: Record<string, unknown>): void {
  onDelivery(Delivery.Call, (id, bytes, length) => {
    const { name, args } = JSON.parse(fromUtf8(bytes.subarray(0, length))) as { name: string; args: unknown[] };
    const fail = (e: unknown): void => {
      const error = e as { stack?: string; message?: string };
      sendText(Request.CallError, id, error && error.message !== undefined ? `${error.message}\n${error.stack ?? ""}` : String(e));
    };
    const fn = entry[name];
    if (typeof fn !== "function") return fail(new Error(`the entry exports no function "${name}"`));
    let result: unknown;
    try {
      result = fn(...args);
    } catch (e) {
      return fail(e);
    }
    Promise.resolve(result).then(
      (value) => {
        try {
          sendText(Request.CallResult, id, value === undefined ? "null" : JSON.stringify(value));
        } catch (e) {
          fail(e);
        }
      },
      fail,
    );
  });
}
