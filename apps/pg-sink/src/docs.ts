/** `pnpm docs:settings`: regenerates the settings and metrics sections of this worker's README from the declarations. */
import { documentMetrics, SINK_METRICS } from "@weather/service-kit";
import { documentSettings } from "@weather/settings";
import { SINK_WORKER } from "./config.ts";

const README = new URL("../README.md", import.meta.url);
documentSettings(README, SINK_WORKER);
documentMetrics(README, SINK_METRICS);
