// INSIDE XS: lets the Node runner call the functions a bundle's entry exports, and hear their results
// (a returned promise is awaited; XS runs its promise jobs at the end of each crank).
import { Delivery, Request } from "../protocol.ts";
import { fromUtf8, onDelivery, request, utf8 } from "./bridge.ts";

export function serveCalls(entry: Record<string, unknown>): void {
  onDelivery(Delivery.Call, (id, bytes) => {
    const { name, args } = JSON.parse(fromUtf8(bytes)) as { name: string; args: unknown[] };
    const fail = (e: unknown): void => {
      const error = e as { stack?: string; message?: string };
      request(Request.CallError, id, utf8(error && error.message !== undefined ? `${error.message}\n${error.stack ?? ""}` : String(e)));
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
      (value) => { request(Request.CallResult, id, utf8(value === undefined ? "null" : JSON.stringify(value))); },
      fail,
    );
  });
}
