// XS entry for the peer: Moddable's own MQTT client (modules/network/mqtt/mqtt.js, read from $MODDABLE at bench
// time and never stored here) over an in-memory fake of Moddable's `socket` and `timer`, driven like our client
// in sim/xs/entries/memory.ts. The fakes' own cost is measured apart by replaying the calls the client made.
import { action, probed } from "./meter.ts";
import { Run } from "./meter-ops.ts";

export { probed };

interface ModdableClient {
  publish(topic: string, data: ArrayBuffer | string, flags?: { quality?: number }): void;
  subscribe(topic: string): void;
  close(): void;
  onReady?: () => void;
  onMessage?: (topic: string, payload: ArrayBuffer) => void;
  onClose?: () => void;
}
type ClientClass = new (dictionary: { host: string; port?: number; id?: string }) => ModdableClient;
interface Fakes { Socket: unknown; Timer: unknown; Time: unknown }
/** Defined by the Node side's evaluation of the wrapped mqtt.js: builds its Client class over the given fakes. */
declare const __makeModdableMQTT: ((fakes: Fakes) => ClientClass) | undefined;

/** One packet the fake socket hands over as one readable event. */
class Feed {
  readonly bytes: Uint8Array;
  constructor(bytes: number[]) { this.bytes = Uint8Array.from(bytes); }
}

const OP_DELIVER = 0, OP_READ = 1, OP_WRITE = 2, OP_TIMER_SET = 3, OP_TIMER_RUN = 4;
let log: number[] | undefined;

/** Moddable `socket` as the client uses it: callback(2, count), read(ArrayBuffer) takes everything, write(buffer). */
class FakeSocket {
  static last: FakeSocket | undefined;
  callback: ((message: number, value?: number) => void) | undefined;
  bytesOut = 0;
  writes = 0;
  private input: Feed | undefined;
  constructor(_dictionary: object) { FakeSocket.last = this; }
  deliver(feed: Feed): void {
    this.input = feed;
    this.callback!(2, feed.bytes.length);
  }
  read(_type: unknown): ArrayBuffer {
    const bytes = this.input!.bytes;
    this.input = undefined;
    return bytes.buffer.slice(0, bytes.length) as ArrayBuffer; // a new buffer, as lwIP's socket read gives
  }
  write(data: ArrayBuffer): void {
    this.bytesOut += data.byteLength;
    this.writes++;
  }
  close(): void {}
}

class RecordingSocket extends FakeSocket {
  override deliver(feed: Feed): void { log!.push(OP_DELIVER, feeds.indexOf(feed)); super.deliver(feed); }
  override read(type: unknown): ArrayBuffer { log!.push(OP_READ, 0); return super.read(type); }
  override write(data: ArrayBuffer): void { log!.push(OP_WRITE, data.byteLength); super.write(data); }
}

/** Moddable `timer` with time standing still: Timer.set callbacks run when the driver says so (after each event). */
interface FakeTimer { callback: (() => void) | undefined }
let pending: FakeTimer[] = [];
const FakeTimers = {
  set(callback: () => void, _ms?: number): FakeTimer { const t = { callback }; pending.push(t); return t; },
  repeat(callback: () => void, _ms?: number): FakeTimer { return { callback }; },
  clear(t: FakeTimer | undefined): void { if (t) t.callback = undefined; },
};
function runTimers(): void {
  if (pending.length === 0) return;
  const due = pending;
  pending = [];
  for (let i = 0; i < due.length; i++) {
    const cb = due[i].callback;
    due[i].callback = undefined;
    if (cb) cb();
  }
}
const RecordingTimers = {
  set(callback: () => void, ms?: number): FakeTimer { log!.push(OP_TIMER_SET, 0); return FakeTimers.set(callback, ms); },
  repeat: FakeTimers.repeat,
  clear: FakeTimers.clear,
};
function runTimersRecorded(): void { if (pending.length) log!.push(OP_TIMER_RUN, 0); runTimers(); }
const FakeTime = { get ticks(): number { return 0; }, delta(a: number, b?: number): number { return (b ?? 0) - a; } };

let client: ModdableClient;
let socket: FakeSocket;
let topic = "";
let payloads: ArrayBuffer[] = [];
let feeds: Feed[] = [];
/** feeds index of the incoming QoS 0 PUBLISH per payload size. */
let publishIndex: number[] = [];
let received = 0, ready = 0, closed = 0;
let run = runTimers;

export interface PeerSetup {
  connack: number[];
  suback: number[];
  /** Incoming QoS 0 PUBLISH per payload size. */
  publishes: number[][];
  topic: string;
  sizes: number[];
}

function start(o: PeerSetup, recording: boolean): { client: ModdableClient; socket: FakeSocket } {
  if (typeof __makeModdableMQTT !== "function") throw new Error("Moddable's mqtt.js was not loaded (the Node side evaluates it first)");
  const Client = __makeModdableMQTT({ Socket: recording ? RecordingSocket : FakeSocket, Timer: recording ? RecordingTimers : FakeTimers, Time: FakeTime });
  const c = new Client({ host: "127.0.0.1", port: 1883, id: recording ? "xs-moddable-rec" : "xs-moddable" });
  const s = FakeSocket.last!;
  c.onReady = () => { ready++; };
  c.onMessage = () => { received++; };
  c.onClose = () => { closed++; };
  s.callback!(1); // connected: the client writes CONNECT
  s.deliver(new Feed(o.connack));
  runTimers();
  c.subscribe(o.topic);
  s.deliver(new Feed(o.suback));
  runTimers();
  return { client: c, socket: s };
}

export function setup(o: PeerSetup): { ready: number; writes: number } {
  topic = o.topic;
  payloads = o.sizes.map((n) => new Uint8Array(n).fill(0x78).buffer);
  feeds = o.publishes.map((bytes) => new Feed(bytes));
  publishIndex = o.publishes.map((_b, i) => i);
  ({ client, socket } = start(o, false));
  return { ready, writes: socket.writes };
}

function publish(_qos: number, size: number, n: number): void {
  const c = client, tp = topic, data = payloads[size];
  for (let i = 0; i < n; i++) c.publish(tp, data);
}

function receive(_qos: number, size: number, n: number): void {
  const s = socket, feed = feeds[publishIndex[size]], r = run;
  for (let i = 0; i < n; i++) {
    s.deliver(feed);
    r();
  }
}

action(Run.Publish, publish);
action(Run.Receive, receive);
action(Run.Loop, (_a, _b, n) => { for (let i = 0; i < n; i++); });

let ops: number[] = [];

/** Records the fake socket and timer calls of one message on a second client; returns the count of each kind. */
export function record(o: PeerSetup, kind: "publish" | "receive", _qos: number, size: number, warm: number): Record<string, number> {
  const saved = { client, socket, run };
  try {
    log = [];
    ({ client, socket } = start(o, true));
    run = runTimersRecorded;
    const go = kind === "publish" ? publish : receive;
    go(0, size, warm);
    log = [];
    go(0, size, 1);
    ops = log;
    log = undefined;
    client.close();
  } finally {
    ({ client, socket, run } = saved);
    log = undefined;
  }
  const names = ["deliver", "read", "write", "timerSet", "timerRun"];
  const counts: Record<string, number> = {};
  for (let i = 0; i < ops.length; i += 2) counts[names[ops[i]]] = (counts[names[ops[i]]] ?? 0) + 1;
  return counts;
}

const quiet = { callback(this: FakeSocket, message: number): void { if (message === 2) this.read(ArrayBuffer); } };
const noop = (): void => {};

/** Replays the recorded fake calls n times as straight-line code; `dry` runs the loop alone. */
function replay(dry: boolean, n: number): void {
  const s = new FakeSocket({});
  // The client's reads happen inside its callback; here the callback reads and nothing else.
  s.callback = quiet.callback;
  const lines: string[] = [];
  if (!dry) {
    for (let j = 0; j < ops.length; j += 2) {
      const op = ops[j], arg = ops[j + 1];
      if (op === OP_DELIVER) lines.push(`s.deliver(fs[${arg}]);`);
      else if (op === OP_WRITE) lines.push(`s.write(out[${arg}]);`);
      else if (op === OP_TIMER_SET) lines.push("T.set(noop);");
      else if (op === OP_TIMER_RUN) lines.push("run();");
      // OP_READ: made by `quiet` inside deliver
    }
  }
  const out: ArrayBuffer[] = [];
  for (let j = 0; j < ops.length; j += 2) if (ops[j] === OP_WRITE) out[ops[j + 1]] = new ArrayBuffer(ops[j + 1]);
  const body = new Function("s", "fs", "out", "T", "noop", "run", "n", `for (let i = 0; i < n; i++) {\n${lines.join("\n")}\n}`) as
    (s: FakeSocket, fs: Feed[], out: ArrayBuffer[], T: typeof FakeTimers, noop: () => void, run: () => void, n: number) => void;
  body(s, feeds, out, FakeTimers, noop, runTimers, 1); // as in memory.ts: first calls are not per message
  body(s, feeds, out, FakeTimers, noop, runTimers, n);
}
action(Run.Replay, (_a, _b, n) => replay(false, n));
action(Run.ReplayDry, (_a, _b, n) => replay(true, n));

export function counts(): { received: number; ready: number; closed: number; writes: number; bytesOut: number } {
  return { received, ready, closed, writes: socket.writes, bytesOut: socket.bytesOut };
}
