// Moddable `mc/config`: the manifest's "config" object plus `mcconfig key=value` settings (values as strings).
declare module "mc/config" {
  const config: Readonly<Record<string, string | number | boolean | undefined>>;
  export default config;
}
