import { defineConfig, mergeConfig } from "vitest/config";
import { sharedVitestConfig } from "../vitest.shared.ts";

// The statistics helpers' unit tests, and one run of the whole bench on small numbers against the
// stack (bench.int.test.ts: every figure measured, no value asserted).
export default mergeConfig(sharedVitestConfig, defineConfig({ test: { include: ["src/**/*.test.ts"] } }));
