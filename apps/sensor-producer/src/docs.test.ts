import { documentMetrics, PRODUCER_METRICS } from "@weather/service-kit";
import { documentSettings } from "@weather/settings";
import { expect, it } from "vitest";
import { PRODUCER_WORKER } from "./config.ts";

const README = new URL("../README.md", import.meta.url);

it("documents every setting in the README as declared (pnpm docs:settings regenerates it)", () => {
  expect(documentSettings(README, PRODUCER_WORKER, true)).toBe(true);
});

it("documents every metric in the README as declared (pnpm docs:settings regenerates it)", () => {
  expect(documentMetrics(README, PRODUCER_METRICS, true)).toBe(true);
});
