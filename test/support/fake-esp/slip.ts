// SLIP framing as the ESP ROM bootloader speaks it: 0xC0 delimits frames, 0xDB escapes 0xC0/0xDB.
// A decoder that is fed arbitrary chunks and yields whole frames, and an encoder for replies.

const END = 0xc0, ESC = 0xdb, ESC_END = 0xdc, ESC_ESC = 0xdd;

export function slipEncode(frame: Uint8Array): Buffer {
  const out: number[] = [END];
  for (const b of frame) {
    if (b === END) out.push(ESC, ESC_END);
    else if (b === ESC) out.push(ESC, ESC_ESC);
    else out.push(b);
  }
  out.push(END);
  return Buffer.from(out);
}

/** Feeds bytes in; calls onFrame for every complete frame. Bytes outside frames are ignored, as the ROM does. */
export class SlipDecoder {
  private frame: number[] | null = null;
  private escaping = false;
  constructor(private readonly onFrame: (frame: Buffer) => void) {}

  push(chunk: Uint8Array): void {
    for (const b of chunk) {
      if (b === END) {
        if (this.frame !== null && this.frame.length > 0) this.onFrame(Buffer.from(this.frame));
        this.frame = [];
        this.escaping = false;
      } else if (this.frame === null) {
        continue;
      } else if (this.escaping) {
        this.frame.push(b === ESC_END ? END : b === ESC_ESC ? ESC : b);
        this.escaping = false;
      } else if (b === ESC) {
        this.escaping = true;
      } else {
        this.frame.push(b);
      }
    }
  }
}
