// XS entry for test/xs-app.test.ts: the example firmware (src/app/main.ts) as the runtime starts it, plus its
// status for the test to read.
import main, { type App } from "../../../src/app/main";

let app: App | undefined;

export function start(): void {
  app = main();
}

export function status(): unknown {
  return app?.status;
}

export function stop(): void {
  app?.stop();
}
