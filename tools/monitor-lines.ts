// Splits a board's serial output into records and says what each is: plain text, a `trace` line, or an
// XS exception. Debug builds wrap both in xsbug frames (<xsbug><log>..</log></xsbug>, see xsDebug.c);
// release builds print trace text bare; crashes print "Fatal exception"/"abort" lines.

export type LineKind = "text" | "trace" | "exception" | "protocol";
export interface Record_ { kind: LineKind; text: string }

const decodeXml = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");

export function classify(record: string): Record_ {
  const frame = /^<xsbug>([\s\S]*)<\/xsbug>$/.exec(record.trim());
  if (frame) {
    const log = /^<log(?:\s+path="([^"]*)"\s+line="(\d+)")?\s*>([\s\S]*)<\/log>$/.exec(frame[1].trim());
    if (!log) return { kind: "protocol", text: frame[1].trim() };
    const body = decodeXml(log[3]).replace(/\n+$/, "");
    if (/# ?Exception/i.test(body)) {
      const where = log[1] ? `${log[1]}:${log[2]}: ` : "";
      return { kind: "exception", text: where + body.replace(/^#\s*/, "").replace(/!$/, "") };
    }
    return { kind: "trace", text: body };
  }
  const line = record.replace(/\r?\n$/, "").replace(/\r/g, "");
  if (/^<\?xs[.#].*\?>$/.test(line.trim())) return { kind: "protocol", text: line.trim() };
  if (/# ?Exception|XS abort|Fatal exception|Guru Meditation|^abort\(\)|unhandled exception/i.test(line)) return { kind: "exception", text: line };
  return { kind: "text", text: line };
}

/** Feeds serial text in; emits whole records (a line, or an xsbug frame that may span lines). */
export class RecordSplitter {
  private buffer = "";
  constructor(private readonly onRecord: (record: string) => void) {}

  push(text: string): void {
    this.buffer += text;
    for (;;) {
      const start = this.buffer.indexOf("<xsbug>");
      const newline = this.buffer.indexOf("\n");
      if (start === 0) {
        const end = this.buffer.indexOf("</xsbug>");
        if (end < 0) return;
        this.onRecord(this.buffer.slice(0, end + 8));
        this.buffer = this.buffer.slice(end + 8).replace(/^\r?\n/, "");
      } else if (start > 0 && (newline < 0 || start < newline)) {
        this.onRecord(this.buffer.slice(0, start));
        this.buffer = this.buffer.slice(start);
      } else if (newline >= 0) {
        this.onRecord(this.buffer.slice(0, newline + 1));
        this.buffer = this.buffer.slice(newline + 1);
      } else {
        return;
      }
    }
  }

  /** Whatever is left (a last line without a newline). */
  flush(): void {
    if (this.buffer) this.onRecord(this.buffer);
    this.buffer = "";
  }
}
