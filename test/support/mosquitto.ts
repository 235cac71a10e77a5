// Moved to sim/brokers/mosquitto.ts (benches and tools start it too); this forwards for the files still being
// edited that import it from here. Import from sim/brokers/mosquitto.ts; this file goes once nothing uses it.
export { Mosquitto, freePort, mosquittoPath, type MosquittoOptions } from "../../sim/brokers/mosquitto.ts";
