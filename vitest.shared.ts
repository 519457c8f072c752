import { defineConfig } from "vitest/config";

/**
 * The one vitest configuration every workspace member extends. Sources of workspace packages are
 * resolved through the "@weather/source" export condition, so tests never need a build first.
 * Each run also writes a JSON report that scripts/test-all.sh totals into one closing line.
 */
export const sharedVitestConfig = defineConfig({
  resolve: { conditions: ["@weather/source"] },
  ssr: { resolve: { conditions: ["@weather/source"] } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", ["json", { outputFile: "reports/vitest.json" }]],
  },
});
