// Node implementation of Moddable's `Resource` (modules/files/resource): the read-only data a firmware's manifest
// bundles ("resources"), here the files of the directories given to addResourceDirectory (one firmware per
// process: every simulated board sees the same resources) or the bytes given to setResource.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const directories: string[] = [];
const added = new Map<string, Uint8Array>();

/** Makes the files in `dir` resources by their names (a manifest's `"resources": {"*": ["./dir/*"]}`). */
export function addResourceDirectory(dir: string): void {
  if (!directories.includes(dir)) directories.unshift(dir);
}

/** Makes `bytes` the resource `name`; undefined removes it. */
export function setResource(name: string, bytes: Uint8Array | undefined): void {
  if (bytes === undefined) added.delete(name);
  else added.set(name, bytes);
}

function find(path: string): Uint8Array | undefined {
  const bytes = added.get(path);
  if (bytes) return bytes;
  if (path.includes("..")) return undefined;
  for (const dir of directories) {
    const file = join(dir, path);
    if (existsSync(file)) return readFileSync(file);
  }
  return undefined;
}

interface ResourceData {
  readonly byteLength: number;
  slice(begin: number, end?: number): ArrayBuffer;
}

/** `new Resource(path)`: the bytes as an ArrayBuffer (byteLength and slice, as the host buffer has). */
const Resource = function (path: string): ResourceData {
  if (!new.target) throw new TypeError("Resource: use new");
  const bytes = find(String(path));
  if (!bytes) throw new URIError(`Resource not found: ${path}`);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
} as unknown as { new (path: string): ResourceData; exists(path: string): boolean };

Resource.exists = (path: string): boolean => find(String(path)) !== undefined;

export default Resource;
