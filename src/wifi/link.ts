// The little a network user (the MQTT client, a feed poller) needs to know about the link: is there an IP,
// and tell me when that changes. Structural, so src/mqtt can accept it without importing src/wifi.

export type LinkListener = (up: boolean) => void;

export interface Link {
  /** True while the station has an IP address. */
  readonly linkUp: boolean;
  /** `listener(true)` when an IP arrives, `listener(false)` when it is lost; called from timer/radio callbacks. */
  addLinkListener(listener: LinkListener): void;
  removeLinkListener(listener: LinkListener): void;
}
