// Node implementation of Moddable's `mc/config`: one default-exported object whose properties are the
// current device's `config`, read at access time (one module instance serves every simulated device). Read-only.
import { currentBoard } from "../board.ts";

type Config = Record<string, string | number | boolean | undefined>;

const readOnly = () => {
  throw new TypeError("mc/config is read-only");
};

const config: Readonly<Config> = new Proxy({} as Config, {
  get: (_target, key) => (typeof key === "string" ? currentBoard().config[key] : undefined),
  has: (_target, key) => typeof key === "string" && Object.hasOwn(currentBoard().config, key),
  ownKeys: () => Object.keys(currentBoard().config),
  getOwnPropertyDescriptor: (_target, key) => {
    const values = currentBoard().config;
    if (typeof key !== "string" || !Object.hasOwn(values, key)) return undefined;
    return { value: values[key], enumerable: true, configurable: true, writable: false };
  },
  set: readOnly,
  defineProperty: readOnly,
  deleteProperty: readOnly,
});

export default config;
