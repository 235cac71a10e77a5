// In-memory feed history for the Adafruit IO emulator: per user, per feed key, the points in arrival
// order (bounded), plus a readable table of them for the terminal.
import type { DataValue, StoredPoint } from "./values.ts";

export type { StoredPoint };

export interface FeedRecord {
  key: string;
  /** The most recent point, or undefined for a feed that has none (never happens once created). */
  last: StoredPoint | undefined;
  /** Oldest first; trimmed to the store's `historyLimit`. */
  history: StoredPoint[];
}

export class FeedStore {
  private users = new Map<string, Map<string, FeedRecord>>();
  private seq = 0;

  constructor(private readonly historyLimit = 1000) {}

  /** Appends a point, creating the feed on first use as Adafruit IO does. */
  add(user: string, key: string, value: DataValue, at: number): StoredPoint {
    let feeds = this.users.get(user);
    if (!feeds) this.users.set(user, (feeds = new Map()));
    let feed = feeds.get(key);
    if (!feed) feeds.set(key, (feed = { key, last: undefined, history: [] }));
    const point: StoredPoint = { id: String(++this.seq), at, ...value };
    feed.history.push(point);
    if (feed.history.length > this.historyLimit) feed.history.splice(0, feed.history.length - this.historyLimit);
    feed.last = point;
    return point;
  }

  feed(user: string, key: string): FeedRecord | undefined {
    return this.users.get(user)?.get(key);
  }

  feeds(user: string): FeedRecord[] {
    return [...(this.users.get(user)?.values() ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  }

  /** A fixed-width table of every point of every feed of `user`, oldest first within a feed. */
  table(user: string): string {
    const rows = [["feed", "time (UTC)", "value", "lat", "lon", "ele"]];
    const opt = (n?: number) => (n === undefined ? "" : String(n));
    for (const feed of this.feeds(user)) {
      for (const p of feed.history) {
        const value = p.value.length > 40 ? p.value.slice(0, 37) + "..." : p.value;
        rows.push([feed.key, new Date(p.at).toISOString(), value.replace(/\s/g, " "), opt(p.lat), opt(p.lon), opt(p.ele)]);
      }
    }
    if (rows.length === 1) return `${user}: no data\n`;
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
    return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n") + "\n";
  }
}
