// Moddable's `Resource` INSIDE XS (xsnap): the XS test host bundles no resources, so none exists.
export default class Resource {
  static exists(_path: string): boolean { return false; }
  constructor(path: string) { throw new URIError(`Resource not found: ${path}`); }
}
