// Strings turned into UTF-8 bytes once, so the hot path copies bytes natively instead of walking strings:
// in XS every `.length` or `charCodeAt` on a primitive string boxes it (2 heap slots), so a walk allocates.
// A `Topic` is a handle the application keeps; a `StringCache` remembers the last few strings it was given
// (compared with `===`, which XS does natively without boxing) for code that passes plain strings.
import { ErrorCode, MQTTError } from "./errors";
import { topicNameLength } from "./topic";
import { utf8ByteLength, writeUtf8 } from "./utf8";

/** A topic name validated and encoded once; publish and `Message.topicIs` take it without walking a string. */
export class Topic {
  readonly name: string;
  readonly bytes: Uint8Array;

  /** Throws MQTTError(BadTopic) for an empty name, a wildcard, a lone surrogate or U+0000. */
  constructor(name: string) {
    const n = typeof name === "string" ? topicNameLength(name) : -1;
    if (n < 0) throw new MQTTError(ErrorCode.BadTopic, `"${name}" is not a topic name (empty, wildcard or invalid UTF-8)`);
    this.name = name;
    this.bytes = new Uint8Array(n);
    writeUtf8(this.bytes, 0, name);
  }
}

/**
 * The last `size` strings seen and their bytes, replaced round-robin. A miss encodes (and allocates) once.
 * A cache holds either topic names (checked on a miss: `topics` true) or any text, never both: a text such as
 * "a/+" must not be handed out as a topic.
 */
export class StringCache {
  private readonly strings: (string | undefined)[];
  private readonly encoded: Uint8Array[];
  private readonly topics: boolean;
  private next = 0;
  /** The last string found and its bytes: a device publishing to one topic checks these first. */
  lastString: string | undefined = undefined;
  lastBytes: Uint8Array = EMPTY;

  constructor(size: number, topics: boolean) {
    this.strings = new Array(size).fill(undefined);
    this.encoded = new Array(size).fill(EMPTY);
    this.topics = topics;
  }

  /**
   * The UTF-8 bytes of `s`: for a topic cache, throws MQTTError(BadTopic) when `s` is not a topic name; for a
   * text cache, lone surrogates are written as U+FFFD (like TextEncoder).
   */
  bytes(s: string): Uint8Array {
    if (s === this.lastString) return this.lastBytes;
    const i = this.find(s);
    if (i >= 0) {
      this.lastString = this.strings[i];
      return (this.lastBytes = this.encoded[i]);
    }
    let bytes: Uint8Array;
    if (this.topics) bytes = new Topic(s).bytes;
    else {
      bytes = new Uint8Array(utf8ByteLength(s));
      writeUtf8(bytes, 0, s);
    }
    return this.add(s, bytes);
  }

  private find(s: string): number {
    const strings = this.strings;
    for (let i = 0; i < strings.length; i++) if (strings[i] === s) return i;
    return -1;
  }

  private add(s: string, bytes: Uint8Array): Uint8Array {
    const i = this.next;
    this.next = i + 1 === this.strings.length ? 0 : i + 1;
    this.strings[i] = s;
    this.encoded[i] = bytes;
    this.lastString = s;
    return (this.lastBytes = bytes);
  }
}

const EMPTY = new Uint8Array(0);

/** True if a[as, ae) and b[bs, be) hold the same bytes. */
export function sameBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): boolean {
  if (ae - as !== be - bs) return false;
  while (as < ae) if (a[as++] !== b[bs++]) return false;
  return true;
}
