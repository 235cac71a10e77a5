// What a feed or group needs from the space it belongs to (Feeds, AdafruitIO): checks, sending through the
// rate limiter, last-value requests, subscriptions and error reports. Its own file so feed.ts, group.ts and
// feeds.ts import in one direction only.
import type { MessageHandler, Topic } from "../mqtt/client";
import type { MQTTError } from "../mqtt/errors";
import type { FeedError } from "./errors";
import type { BooleanTexts, KeyRule } from "./values";
import type { Payload } from "./rate-limiter";

/** What feeds and groups need from their space. */
export interface FeedSpace {
  readonly keyRule: KeyRule;
  readonly maxValueBytes: number;
  readonly texts: BooleanTexts;
  checkQos(qos: number | undefined, what: string): number;
  send(topic: string | Topic, payload: Payload, qos: number, cost: number): number;
  requestLast(topic: string): number;
  subscribe(topic: string, qos: number, handler: MessageHandler, requestLast: boolean): void;
  unsubscribe(topic: string): void;
  report(error: FeedError | MQTTError): void;
}
