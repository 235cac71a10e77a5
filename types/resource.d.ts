// Moddable SDK `Resource` (modules/files/resource, documentation/files/files.md): read-only data the manifest's
// "resources" put in flash, e.g. a CA certificate. No wider than the SDK's typings/Resource.d.ts (which extends
// its global HostBuffer: a byteLength and nothing else).
declare module "Resource" {
  interface ResourcePrototype {
    readonly byteLength: number;
    slice(begin: number, end?: number): ArrayBuffer;
  }

  export interface ResourceConstructor {
    /** Throws when the firmware holds no resource of that name. */
    new (path: string): ResourcePrototype;

    exists(path: string): boolean;
  }
  const Resource: ResourceConstructor;

  export { Resource as default };
}
