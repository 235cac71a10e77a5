// INSIDE XS: how the Node side configured this machine. hosts/xs/bundle.ts replaces these defaults with the
// XSHost options; the file exists so the host modules type-check against one shape.
export interface HostConfig {
  /** Whose native modules the host models: lwIP on an ESP8266, or Moddable's Linux port. */
  platform: "esp8266" | "lin";
  /** Freeze the built-ins before any other module loads, as Moddable's linker does. */
  freeze: boolean;
  /** A refused connection reports "connected", then write() throws "write failed" (what lin was seen to do). */
  refusedConnects: boolean;
}

const hostConfig: HostConfig = { platform: "esp8266", freeze: true, refusedConnects: false };
export default hostConfig;
