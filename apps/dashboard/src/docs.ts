/** `pnpm docs:settings`: regenerates the settings section of this worker's README from the declarations. */
import { documentSettings } from "@weather/service-kit";
import { DASHBOARD_SETTING_GROUPS } from "./config.ts";

documentSettings(new URL("../README.md", import.meta.url), DASHBOARD_SETTING_GROUPS);
