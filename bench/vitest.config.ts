import { defineConfig, mergeConfig } from "vitest/config";
import { sharedVitestConfig } from "../vitest.shared.ts";

// Only the statistics helpers have unit tests here; the benchmarks themselves never run under vitest.
export default mergeConfig(sharedVitestConfig, defineConfig({ test: { include: ["src/**/*.test.ts"] } }));
