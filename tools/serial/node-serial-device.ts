// Gives esptool-js the Web-Serial-like device it expects (open/close, readable/writable streams,
// setSignals, getInfo, setBaudRate), backed by the `serialport` package.
import { SerialPort } from "serialport";
import { explainOpenError } from "./open-errors.ts";

export interface NodeSerialDeviceOptions {
  /** Drive DTR/RTS (board reset and boot-mode lines). False for ports that have none, such as a pty. */
  controlLines?: boolean;
  /** Called once when the port refuses DTR/RTS (e.g. "Inappropriate ioctl for device" on a pty). */
  onNoControlLines?: (error: Error) => void;
  usbVendorId?: number;
  usbProductId?: number;
}

interface Signals { dataTerminalReady?: boolean; requestToSend?: boolean; break?: boolean }

export class NodeSerialDevice {
  private port: SerialPort | null = null;
  private stream: ReadableStream<Uint8Array> | null = null;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private pending: Uint8Array[] = [];
  private writer: WritableStream<Uint8Array> | null = null;
  private dtr = false;
  private rts = false;
  private controlLines: boolean;

  constructor(readonly path: string, private readonly options: NodeSerialDeviceOptions = {}) {
    this.controlLines = options.controlLines ?? true;
  }

  get isOpen(): boolean {
    return this.port?.isOpen === true;
  }

  /** Like Web Serial: the same stream until it is cancelled; a fresh one after that while the port is open. */
  get readable(): ReadableStream<Uint8Array> | null {
    if (!this.isOpen) return null;
    if (!this.stream) {
      this.stream = new ReadableStream<Uint8Array>({
        start: (controller) => {
          this.controller = controller;
          for (const chunk of this.pending.splice(0)) controller.enqueue(chunk);
        },
        cancel: () => { this.stream = null; this.controller = null; },
      });
    }
    return this.stream;
  }

  get writable(): WritableStream<Uint8Array> | null {
    if (!this.isOpen) return null;
    if (!this.writer) {
      this.writer = new WritableStream<Uint8Array>({
        write: (chunk) => new Promise<void>((resolve, reject) => {
          const port = this.port;
          if (!port) return reject(new Error("serial port closed"));
          port.write(Buffer.from(chunk), (error) => (error ? reject(error) : port.drain((e) => (e ? reject(e) : resolve()))));
        }),
      });
    }
    return this.writer;
  }

  async open(options: { baudRate?: number } = {}): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: options.baudRate ?? 115200, autoOpen: false, hupcl: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(explainOpenError(this.path, error)) : resolve())));
    port.on("data", (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk);
      if (this.controller) this.controller.enqueue(bytes);
      else this.pending.push(bytes);
    });
    port.on("error", () => {});
    // The port went away (unplugged, or closed): end the readable so readers see the end.
    port.on("close", () => { try { this.controller?.close(); } catch { /* already ended */ } this.controller = null; });
    this.port = port;
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    try { this.controller?.close(); } catch { /* already cancelled */ }
    this.stream = null;
    this.controller = null;
    this.writer = null;
    this.pending = [];
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** Web Serial keeps unspecified lines as they are; serialport turns them on, so both are always sent. */
  async setSignals(signals: Signals): Promise<void> {
    if (signals.dataTerminalReady !== undefined) this.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.rts = signals.requestToSend;
    const port = this.port;
    if (!this.controlLines || !port) return;
    try {
      await new Promise<void>((resolve, reject) => port.set({ dtr: this.dtr, rts: this.rts }, (e) => (e ? reject(e) : resolve())));
    } catch (error) {
      this.controlLines = false;
      this.options.onNoControlLines?.(error as Error);
    }
  }

  /** Whether DTR/RTS still work on this port (false after the port refused them). */
  get hasControlLines(): boolean {
    return this.controlLines;
  }

  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (!port) throw new Error("serial port closed");
    await new Promise<void>((resolve, reject) => port.update({ baudRate }, (e) => (e ? reject(e) : resolve())));
  }

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return { usbVendorId: this.options.usbVendorId, usbProductId: this.options.usbProductId };
  }

  /** Raw write, for the serial monitor. */
  async write(bytes: Uint8Array): Promise<void> {
    const writer = this.writable?.getWriter();
    if (!writer) throw new Error("serial port closed");
    try { await writer.write(bytes); } finally { writer.releaseLock(); }
  }
}

/** Reset a board into its firmware: EN low via RTS, then released, with IO0 (DTR) high. */
export async function pulseReset(device: NodeSerialDevice): Promise<boolean> {
  if (!device.hasControlLines) return false;
  await device.setSignals({ dataTerminalReady: false, requestToSend: true });
  await new Promise((r) => setTimeout(r, 100));
  await device.setSignals({ dataTerminalReady: false, requestToSend: false });
  return device.hasControlLines;
}
