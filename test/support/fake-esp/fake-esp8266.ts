// A fake ESP8266 for flashing tests: answers the ROM bootloader protocol, then (after the stub upload)
// the flasher stub's, keeps a simulated SPI flash, and afterwards behaves like running firmware.
import { createHash } from "node:crypto";
import { inflateSync } from "node:zlib";
import { SlipDecoder, slipEncode } from "./slip.ts";

export const Op = {
  FLASH_BEGIN: 0x02, FLASH_DATA: 0x03, FLASH_END: 0x04,
  MEM_BEGIN: 0x05, MEM_END: 0x06, MEM_DATA: 0x07,
  SYNC: 0x08, WRITE_REG: 0x09, READ_REG: 0x0a,
  SPI_ATTACH: 0x0d, CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10, FLASH_DEFL_DATA: 0x11, FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13, GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0, ERASE_REGION: 0xd1, RUN_USER_CODE: 0xd3,
} as const;
const opNames = new Map<number, string>(Object.entries(Op).map(([k, v]) => [v, k]));

// ROM loader errors (esptool serial protocol docs) and the stub's own codes.
const ROM_INVALID_MESSAGE = 0x05, ROM_FAILED = 0x06, ROM_BAD_CRC = 0x07;
const STUB_BAD_DATA_CHECKSUM = 0xc2, STUB_BAD_BLOCKSIZE = 0xc3, STUB_FAILED_SPI_OP = 0xc6, STUB_INFLATE_ERROR = 0xc7, STUB_UNIMPLEMENTED = 0xff;

// Registers esptool-js reads on an ESP8266.
const CHIP_DETECT_MAGIC_REG = 0x40001000, ESP8266_MAGIC = 0xfff0c101;
const EFUSE_BASE = 0x3ff00050, UART_CLKDIV_REG = 0x60000014;
const SPI_BASE = 0x60000200, SPI_CMD = SPI_BASE, SPI_USR2 = SPI_BASE + 0x24, SPI_W0 = SPI_BASE + 0x40;
const SPI_CMD_USR = 1 << 18, SPIFLASH_RDID = 0x9f;

/** JEDEC capacity byte for each flash size we simulate (what esptool maps back to "4MB" etc). */
const capacityIds: Record<number, number> = { 0x40000: 0x12, 0x80000: 0x13, 0x100000: 0x14, 0x200000: 0x15, 0x400000: 0x16, 0x800000: 0x17, 0x1000000: 0x18 };

export interface FakeEspOptions {
  /** Flash size in bytes (a power of two from 256 KB to 16 MB). Default 4 MB. */
  flashSize?: number;
  /** Station MAC; the OUI must be 18:fe:34 (what the ESP8266 efuse encodes as OUI 0). */
  mac?: readonly number[];
  /** Not in download mode: the board ignores the bootloader protocol entirely. */
  silent?: boolean;
  /** Flips one stored bit after each write, so the MD5 check must catch it. */
  corruptWrites?: boolean;
  /** Lines the "firmware" prints once the flasher runs user code (or at once with `startInApp`). */
  appOutput?: string;
  /** Start as running firmware (for the serial monitor), not in the bootloader. */
  startInApp?: boolean;
}

interface Download { kind: "mem" | "flash" | "defl"; offset: number; size: number; blocks: number; blockSize: number; nextSeq: number; parts: Buffer[] }

export class FakeEsp8266 {
  readonly flash: Uint8Array;
  mode: "rom" | "stub" | "app";
  /** Names of the commands received, in order (SYNC repeats collapsed). */
  readonly commands: string[] = [];
  /** Every flash write: where and how many bytes. */
  readonly writes: { offset: number; length: number }[] = [];
  /** Bytes received while running as firmware (what the monitor sends). */
  appInput = Buffer.alloc(0);
  baudRate = 115200;
  private readonly decoder = new SlipDecoder((frame) => this.onFrame(frame));
  private readonly regs = new Map<number, number>();
  private download: Download | null = null;
  private stubImage = 0;

  constructor(private readonly send: (bytes: Buffer) => void, private readonly options: FakeEspOptions = {}) {
    const size = options.flashSize ?? 0x400000;
    if (!(size in capacityIds)) throw new Error(`fake ESP: unsupported flash size ${size}`);
    this.flash = new Uint8Array(size).fill(0xff);
    this.mode = options.startInApp ? "app" : "rom";
    const mac = options.mac ?? [0x18, 0xfe, 0x34, 0xa1, 0xb2, 0xc3];
    this.regs.set(CHIP_DETECT_MAGIC_REG, ESP8266_MAGIC);
    this.regs.set(EFUSE_BASE + 0, (mac[5] << 24) >>> 0);
    this.regs.set(EFUSE_BASE + 4, (mac[3] << 8) | mac[4]);
    this.regs.set(EFUSE_BASE + 8, 0);
    this.regs.set(EFUSE_BASE + 12, 0);
    this.regs.set(UART_CLKDIV_REG, 694); // 40 MHz crystal at 115200 baud
  }

  /** Bytes from the host. */
  receive(chunk: Buffer): void {
    if (this.options.silent) return;
    if (this.mode === "app") { this.appInput = Buffer.concat([this.appInput, chunk]); return; }
    this.decoder.push(chunk);
  }

  /** Text printed by the "firmware" (only while running as firmware). */
  print(text: string): void {
    if (this.mode === "app") this.send(Buffer.from(text, "utf8"));
  }

  /** Bytes of flash, as stored. */
  read(offset: number, length: number): Buffer {
    return Buffer.from(this.flash.subarray(offset, offset + length));
  }

  private note(op: number): void {
    const name = opNames.get(op) ?? `0x${op.toString(16)}`;
    if (name === "SYNC" && this.commands.at(-1) === "SYNC") return;
    this.commands.push(name);
  }

  private reply(op: number, value = 0, data: Uint8Array = new Uint8Array(0), status = 0, error = 0): void {
    const body = Buffer.alloc(8 + data.length + 2);
    body[0] = 0x01;
    body[1] = op;
    body.writeUInt16LE(data.length + 2, 2);
    body.writeUInt32LE(value >>> 0, 4);
    body.set(data, 8);
    body[8 + data.length] = status;
    body[9 + data.length] = error;
    this.send(slipEncode(body));
  }

  private fail(op: number, romError: number, stubError: number): void {
    this.reply(op, 0, undefined, 1, this.mode === "rom" ? romError : stubError);
  }

  private onFrame(frame: Buffer): void {
    if (frame.length < 8 || frame[0] !== 0x00) return; // not a request: the ROM ignores it
    const op = frame[1];
    const size = frame.readUInt16LE(2);
    const checksum = frame.readUInt32LE(4);
    const data = frame.subarray(8, 8 + size);
    this.note(op);
    if (data.length !== size) return this.fail(op, ROM_INVALID_MESSAGE, STUB_BAD_BLOCKSIZE);
    const word = (i: number) => data.readUInt32LE(i * 4);
    const stub = this.mode === "stub";

    switch (op) {
      case Op.SYNC:
        // The ROM answers one SYNC with eight replies and a non-zero value; the stub answers once with 0.
        for (let i = 0; i < (stub ? 1 : 8); i++) this.reply(op, stub ? 0 : 0x20120707);
        return;
      case Op.READ_REG:
        return this.reply(op, this.regs.get(word(0)) ?? 0);
      case Op.WRITE_REG:
        for (let i = 0; i + 16 <= data.length; i += 16) this.writeReg(data.readUInt32LE(i), data.readUInt32LE(i + 4), data.readUInt32LE(i + 8));
        return this.reply(op);
      case Op.MEM_BEGIN:
        if (stub) break;
        this.download = { kind: "mem", size: word(0), blocks: word(1), blockSize: word(2), offset: word(3), nextSeq: 0, parts: [] };
        return this.reply(op);
      case Op.MEM_DATA:
      case Op.FLASH_DATA:
      case Op.FLASH_DEFL_DATA:
        return this.onData(op, data, checksum);
      case Op.MEM_END:
        if (stub) break;
        return this.onMemEnd(op, word(0), word(1));
      case Op.FLASH_BEGIN:
      case Op.FLASH_DEFL_BEGIN: {
        if (op === Op.FLASH_DEFL_BEGIN && !stub) break; // compressed download needs the stub on ESP8266
        const [size, blocks, blockSize, offset] = [word(0), word(1), word(2), word(3)];
        if (offset + size > this.flash.length || offset >= this.flash.length) return this.fail(op, ROM_FAILED, STUB_FAILED_SPI_OP);
        this.download = { kind: op === Op.FLASH_BEGIN ? "flash" : "defl", size, blocks, blockSize, offset, nextSeq: 0, parts: [] };
        return this.reply(op);
      }
      case Op.FLASH_END:
      case Op.FLASH_DEFL_END:
        if (op === Op.FLASH_DEFL_END && !stub) break;
        this.download = null;
        this.reply(op);
        if (word(0) === 0) this.runUserCode(); // 0 = reboot into the new firmware
        return;
      case Op.SPI_ATTACH:
      case Op.CHANGE_BAUDRATE:
        if (!stub) break; // not in the ESP8266 ROM loader
        if (op === Op.CHANGE_BAUDRATE) this.baudRate = word(0);
        return this.reply(op);
      case Op.SPI_FLASH_MD5: {
        if (!stub) break;
        const [addr, length] = [word(0), word(1)];
        if (addr + length > this.flash.length) return this.fail(op, ROM_FAILED, STUB_FAILED_SPI_OP);
        return this.reply(op, 0, createHash("md5").update(this.flash.subarray(addr, addr + length)).digest());
      }
      case Op.RUN_USER_CODE:
        if (!stub) break;
        return this.runUserCode(); // no reply: the stub jumps to the firmware
    }
    // Anything else: "received message is invalid" from the ROM, "unimplemented" from the stub.
    this.fail(op, ROM_INVALID_MESSAGE, STUB_UNIMPLEMENTED);
  }

  private writeReg(addr: number, value: number, mask: number): void {
    const old = this.regs.get(addr) ?? 0;
    this.regs.set(addr, ((old & ~mask) | (value & mask)) >>> 0);
    if (addr === SPI_CMD && value & SPI_CMD_USR) {
      // A user SPI command: only RDID is answered (JEDEC id: Winbond, 0x40, capacity).
      const command = (this.regs.get(SPI_USR2) ?? 0) & 0xff;
      if (command === SPIFLASH_RDID) this.regs.set(SPI_W0, (capacityIds[this.flash.length] << 16) | (0x40 << 8) | 0xef);
      this.regs.set(SPI_CMD, (this.regs.get(SPI_CMD) ?? 0) & ~SPI_CMD_USR);
    }
  }

  private onData(op: number, data: Buffer, checksum: number): void {
    const d = this.download;
    const expected = op === Op.MEM_DATA ? "mem" : op === Op.FLASH_DATA ? "flash" : "defl";
    if (!d || d.kind !== expected || data.length < 16) return this.fail(op, ROM_INVALID_MESSAGE, STUB_BAD_BLOCKSIZE);
    const length = data.readUInt32LE(0), seq = data.readUInt32LE(4);
    const payload = data.subarray(16, 16 + length);
    if (payload.length !== length || seq !== d.nextSeq) return this.fail(op, ROM_INVALID_MESSAGE, STUB_BAD_BLOCKSIZE);
    let sum = 0xef;
    for (const b of payload) sum ^= b;
    if (sum !== (checksum & 0xff)) return this.fail(op, ROM_BAD_CRC, STUB_BAD_DATA_CHECKSUM);
    d.nextSeq++;
    if (d.kind === "mem") { d.parts.push(Buffer.from(payload)); return this.reply(op); }
    if (d.kind === "flash") {
      const at = d.offset + seq * d.blockSize;
      this.store(at, payload.subarray(0, Math.max(0, Math.min(payload.length, this.flash.length - at))));
      return this.reply(op);
    }
    d.parts.push(Buffer.from(payload));
    if (d.nextSeq < d.blocks) return this.reply(op);
    let image: Buffer;
    try { image = inflateSync(Buffer.concat(d.parts)); } catch { return this.fail(op, ROM_FAILED, STUB_INFLATE_ERROR); }
    if (d.offset + image.length > this.flash.length) return this.fail(op, ROM_FAILED, STUB_FAILED_SPI_OP);
    this.store(d.offset, image);
    this.reply(op);
  }

  private store(offset: number, bytes: Uint8Array): void {
    this.flash.set(bytes, offset);
    if (this.options.corruptWrites && bytes.length > 0) this.flash[offset] ^= 0x01;
    this.writes.push({ offset, length: bytes.length });
  }

  private onMemEnd(op: number, noEntry: number, entry: number): void {
    const d = this.download;
    if (d?.kind === "mem") this.stubImage += Buffer.concat(d.parts).length;
    this.download = null;
    this.reply(op);
    if (noEntry === 0 && entry !== 0 && this.stubImage > 0) {
      // The stub starts and announces itself with the one unsolicited packet of the protocol.
      this.mode = "stub";
      this.send(slipEncode(Buffer.from("OHAI")));
    }
  }

  private runUserCode(): void {
    this.mode = "app";
    if (this.options.appOutput) this.send(Buffer.from(this.options.appOutput, "utf8"));
  }
}
