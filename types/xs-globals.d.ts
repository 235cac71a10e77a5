// Globals the XS engine and the Moddable runtime provide to every module.

/** Moddable's diagnostic output (to xsbug or the serial console). */
declare function trace(...values: unknown[]): void;

interface ArrayBufferConstructor {
  /** XS: a new ArrayBuffer holding the UTF-8 bytes of `string`. */
  fromString(string: string): ArrayBuffer;
}
interface StringConstructor {
  /** XS: the string whose UTF-8 bytes `buffer` holds. */
  fromArrayBuffer(buffer: ArrayBufferLike): string;
}
