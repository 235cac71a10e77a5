// What the example app reports about itself: read by the simulator's live view and fleet summary,
// and handy on a board for a status LED or a diagnostics topic. Plain fields, updated in place.

export interface AppStatus {
  /** Wi-Fi manager state: "idle" | "connecting" | "connected" | "lost" | "gave-up". */
  wifi: string;
  ssid: string | undefined;
  ip: string | undefined;
  rssi: number | undefined;
  /** MQTT client state: "offline" | "connecting" | "connected" | "closed". */
  mqtt: string;
  /** Readings handed to the client (accepted for sending). */
  published: number;
  /** QoS 1 readings the broker acknowledged. */
  delivered: number;
  /** Messages received on subscribed feeds. */
  received: number;
  reconnects: number;
  /** Packets waiting in the client's queue. */
  queued: number;
  errors: number;
  lastError: string | undefined;
  /** Last photocell reading (0..1023). */
  lastReading: number | undefined;
  /** On-board LED as driven by the onoff feed (1 = on). */
  led: number;
  /** Last slider value. */
  slider: number | undefined;
  /** Last time/seconds value from the broker. */
  time: number | undefined;
}

export interface App {
  readonly status: AppStatus;
  /** Stops timers, closes the MQTT client and the Wi-Fi manager. */
  stop(): void;
}
