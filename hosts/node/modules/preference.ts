// Node implementation of Moddable's `preference` module, one store per simulated device, persisted to
// `<device.preferenceDir>/preferences.json` when set. Enforces the ESP8266 limits, our smallest target.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { currentBoard, type Board } from "../board.ts";

type Value = boolean | number | string | ArrayBuffer;
type Stored = boolean | number | string | { buffer: number[] };
type Store = Record<string, Record<string, Stored>>;

/** ESP8266 (modules/files/preference/esp): names of at most 31 bytes, values of at most 63 bytes. */
const maxName = 31;
const maxValue = 63;

const stores = new WeakMap<Board, Store>();
const utf8 = new TextEncoder();

function fileOf(board: Board): string | undefined {
  return board.preferenceDir === undefined ? undefined : join(board.preferenceDir, "preferences.json");
}

function storeOf(board: Board): Store {
  let store = stores.get(board);
  if (!store) {
    store = {};
    const file = fileOf(board);
    if (file) {
      try {
        store = JSON.parse(readFileSync(file, "utf8")) as Store;
      } catch {
        // no file yet (or unreadable): start empty, as the device does with blank flash
      }
    }
    stores.set(board, store);
  }
  return store;
}

function save(board: Board, store: Store): void {
  const file = fileOf(board);
  if (!file) return;
  mkdirSync(board.preferenceDir!, { recursive: true });
  // Write then rename, so a crash mid-write never leaves half a file (flash writes are atomic per entry too).
  writeFileSync(file + ".tmp", JSON.stringify(store));
  renameSync(file + ".tmp", file);
}

export default class Preference {
  static set(domain: string, key: string, value: Value): void {
    domain = String(domain);
    key = String(key);
    if (utf8.encode(domain).length > maxName || utf8.encode(key).length > maxName) throw new Error("too long");
    let stored: Stored;
    let size: number;
    if (typeof value === "boolean") {
      stored = value;
      size = 1;
    } else if (typeof value === "number") {
      if ((value | 0) !== value) throw new Error("float unsupported");
      stored = value;
      size = 4;
    } else if (typeof value === "string") {
      stored = value;
      size = utf8.encode(value).length + 1;
    } else if (value instanceof ArrayBuffer) {
      stored = { buffer: [...new Uint8Array(value)] };
      size = value.byteLength;
    } else throw new Error("unsupported type");
    if (size > maxValue) throw new Error("can't save prefs");
    const board = currentBoard();
    const store = storeOf(board);
    (store[domain] ??= {})[key] = stored;
    save(board, store);
  }

  static get(domain: string, key: string): Value | undefined {
    const stored = storeOf(currentBoard())[String(domain)]?.[String(key)];
    if (stored !== null && typeof stored === "object") return new Uint8Array(stored.buffer).buffer;
    return stored;
  }

  static delete(domain: string, key: string): void {
    const board = currentBoard();
    const store = storeOf(board);
    const entries = store[String(domain)];
    if (!entries || !(String(key) in entries)) return;
    delete entries[String(key)];
    if (Object.keys(entries).length === 0) delete store[String(domain)];
    save(board, store);
  }

  static keys(domain: string): string[] {
    return Object.keys(storeOf(currentBoard())[String(domain)] ?? {});
  }
}
