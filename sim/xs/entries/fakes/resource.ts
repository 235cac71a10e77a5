// INSIDE XS: Moddable's `Resource` with no resources (the fake TLS runs take no CA from the manifest).
export default class Resource {
  static exists(_path: string): boolean { return false; }
  constructor(path: string) { throw new URIError(`Resource not found: ${path}`); }
}
