// Test setup (vitest.config.ts): device code run outside any device.run() runs on one default simulated device,
// as it would on the one board of a real app.
import { setDefaultBoard } from "../../hosts/node/board.ts";
import { Device } from "./device.ts";

setDefaultBoard(new Device({ id: "default" }));
