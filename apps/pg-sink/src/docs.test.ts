import { documentMetrics, SINK_METRICS } from "@weather/service-kit";
import { documentSettings } from "@weather/settings";
import { expect, it } from "vitest";
import { SINK_WORKER } from "./config.ts";

const README = new URL("../README.md", import.meta.url);

it("documents every setting in the README as declared (pnpm docs:settings regenerates it)", () => {
  expect(documentSettings(README, SINK_WORKER, true)).toBe(true);
});

it("documents every metric in the README as declared (pnpm docs:settings regenerates it)", () => {
  expect(documentMetrics(README, SINK_METRICS, true)).toBe(true);
});
