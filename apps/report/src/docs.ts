/** `pnpm docs:settings`: regenerates the settings section of this worker's README from the declarations. */
import { documentSettings } from "@weather/settings";
import { REPORT_WORKER } from "./config.ts";

documentSettings(new URL("../README.md", import.meta.url), REPORT_WORKER);
