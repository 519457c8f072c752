import { documentSettings } from "@weather/settings";
import { expect, it } from "vitest";
import { SINK_WORKER } from "./config.ts";

it("documents every setting in the README as declared (pnpm docs:settings regenerates it)", () => {
  expect(documentSettings(new URL("../README.md", import.meta.url), SINK_WORKER, true)).toBe(true);
});
