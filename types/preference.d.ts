// Moddable SDK `preference` module (documentation/storage/storage.md#preference).
declare module "preference" {
  export default class Preference {
    static set(domain: string, key: string, value: boolean | number | string | ArrayBuffer): void;
    static get(domain: string, key: string): boolean | number | string | ArrayBuffer | undefined;
    static delete(domain: string, key: string): void;
    static keys(domain: string): string[];
  }
}
