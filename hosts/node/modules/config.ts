// Node implementation of Moddable's `mc/config`: one default-exported object whose properties are the
// current device's `config`, read at access time (one module instance serves every simulated device). Read-only.
import { currentDevice } from "../device.ts";

type Config = Record<string, string | number | boolean | undefined>;

const readOnly = () => {
  throw new TypeError("mc/config is read-only");
};

const config: Readonly<Config> = new Proxy({} as Config, {
  get: (_target, key) => (typeof key === "string" ? currentDevice().config[key] : undefined),
  has: (_target, key) => typeof key === "string" && Object.hasOwn(currentDevice().config, key),
  ownKeys: () => Object.keys(currentDevice().config),
  getOwnPropertyDescriptor: (_target, key) => {
    const values = currentDevice().config;
    if (typeof key !== "string" || !Object.hasOwn(values, key)) return undefined;
    return { value: values[key], enumerable: true, configurable: true, writable: false };
  },
  set: readOnly,
  defineProperty: readOnly,
  deleteProperty: readOnly,
});

export default config;
