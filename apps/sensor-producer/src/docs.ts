/** `pnpm docs:settings`: regenerates the settings and metrics sections of this worker's README from the declarations. */
import { documentMetrics, PRODUCER_METRICS } from "@weather/service-kit";
import { documentSettings } from "@weather/settings";
import { PRODUCER_WORKER } from "./config.ts";

const README = new URL("../README.md", import.meta.url);
documentSettings(README, PRODUCER_WORKER);
documentMetrics(README, PRODUCER_METRICS);
