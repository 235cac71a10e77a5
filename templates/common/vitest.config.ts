import { defineConfig } from "vitest/config";
import xsmq from "xsmq/vitest";

// xsmq/vitest: XS modules ("timer", "pins/analog"...) and xsmq's modules ("wifi/manager"...) resolve to the simulator.
export default defineConfig({
  plugins: [xsmq()],
  test: { testTimeout: 30_000 },
});
