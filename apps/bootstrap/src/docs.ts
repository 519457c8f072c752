/** `pnpm docs:settings`: regenerates the settings section of this worker's README from the declarations. */
import { documentSettings } from "@weather/settings";
import { BOOTSTRAP_WORKER } from "./config.ts";

documentSettings(new URL("../README.md", import.meta.url), BOOTSTRAP_WORKER);
