import { documentSettings } from "@weather/service-kit";
import { expect, it } from "vitest";
import { DASHBOARD_SETTING_GROUPS } from "./config.ts";

it("documents every setting in the README as declared (pnpm docs:settings regenerates it)", () => {
  expect(documentSettings(new URL("../README.md", import.meta.url), DASHBOARD_SETTING_GROUPS, true)).toBe(
    true,
  );
});
