import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, type ConfigProblem } from "./config-error.ts";
import { helpText, settingsTable } from "./docs.ts";
import { configurationOf, defineSettingsGroup, defineWorkerSettings, readConfiguration } from "./groups.ts";
import { switchSchema, wholeNumber } from "./schemas.ts";
import { setting } from "./settings.ts";

const SETTINGS = Object.freeze({
  count: setting({
    env: "DEMO_COUNT",
    flag: "count",
    value: "N",
    description: "how many",
    default: "3",
    schema: wholeNumber({ min: 1 }),
  }),
  url: setting({ env: "DEMO_URL", description: "where", schema: z.url({ error: "must be a URL" }) }),
  token: setting({
    env: "DEMO_TOKEN",
    description: "a secret",
    secret: true,
    schema: z.string().min(8, "too short"),
  }),
  json: setting({
    env: "DEMO_JSON",
    flag: "json",
    switch: true,
    description: "JSON | text",
    default: "false",
    schema: switchSchema,
  }),
});

const DEMO = defineSettingsGroup({ title: "Demo", settings: SETTINGS });

const LIMITS = defineSettingsGroup({
  title: "Limits",
  settings: {
    low: setting({ env: "DEMO_LOW", description: "lower bound", default: "1", schema: wholeNumber() }),
    high: setting({ env: "DEMO_HIGH", description: "upper bound", default: "10", schema: wholeNumber() }),
  },
  read({ low, high }, { problems, failed, sourceOf }) {
    if (!failed("low") && !failed("high") && high < low) {
      problems.push({ setting: sourceOf("high"), message: `must not be below DEMO_LOW (${low})` });
      return undefined;
    }
    return Object.freeze({ low, high, span: high - low });
  },
});

const WORKER = defineWorkerSettings({
  name: "demo",
  summary: "Does a demo.",
  groups: { demo: DEMO, limits: LIMITS },
});

function problemsOf(env: Record<string, string>, argv: string[] = []): readonly ConfigProblem[] {
  return readConfiguration(WORKER, { env, argv }).problems;
}

describe("reading a worker's groups", () => {
  it("takes the default, then the variable, then the flag, into each group's one value", () => {
    expect(configurationOf(WORKER, {}).demo).toEqual({ count: 3, json: false });
    expect(configurationOf(WORKER, { DEMO_COUNT: "5", DEMO_JSON: "yes" }).demo).toEqual({
      count: 5,
      json: true,
    });
    const config = configurationOf(WORKER, { DEMO_COUNT: "5" }, ["--count", "7", "--json"]);
    expect(config).toEqual({ demo: { count: 7, json: true }, limits: { low: 1, high: 10, span: 9 } });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.demo)).toBe(true);
  });

  it("treats an empty variable as unset", () => {
    expect(configurationOf(WORKER, { DEMO_COUNT: "  " }).demo.count).toBe(3);
  });

  it("names where each bad value came from, echoes it (never a secret or a URL's password), all at once", () => {
    expect(
      problemsOf({ DEMO_URL: "nope://u:hunter2@", DEMO_TOKEN: "short", DEMO_HIGH: "0" }, ["--count", "0"]),
    ).toEqual([
      { setting: "--count", message: '"0": must be at least 1' },
      { setting: "DEMO_URL", message: '"nope://u:***@": must be a URL' },
      { setting: "DEMO_TOKEN", message: "(hidden): too short" },
      { setting: "DEMO_HIGH", message: "must not be below DEMO_LOW (1)" },
    ]);
  });

  it("reports a bad value once, for what it is, not again in a check across settings", () => {
    expect(problemsOf({ DEMO_LOW: "20", DEMO_HIGH: "x" })).toEqual([
      { setting: "DEMO_HIGH", message: '"x": must be a whole number' },
    ]);
  });

  it("throws every problem at once as one ConfigError", () => {
    expect(() => configurationOf(WORKER, { DEMO_COUNT: "x", DEMO_LOW: "1.5" })).toThrow(ConfigError);
    try {
      configurationOf(WORKER, { DEMO_COUNT: "x", DEMO_LOW: "1.5" });
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.setting)).toEqual(["DEMO_COUNT", "DEMO_LOW"]);
    }
  });

  it("refuses a reader that returns nothing and reports nothing: a bug, not a configuration problem", () => {
    const broken = defineSettingsGroup({ title: "Broken", settings: {}, read: () => undefined });
    expect(() => configurationOf({ groups: { broken } }, {})).toThrow(/"Broken" returned no value/);
  });
});

describe("the command line", () => {
  it("drops the leading -- that npm and pnpm users type before a script's flags", () => {
    expect(configurationOf(WORKER, {}, ["--", "--count", "4"]).demo.count).toBe(4);
    expect(readConfiguration(WORKER, { env: {}, argv: ["--", "--help"] }).help).toBe(true);
  });

  it("drops a -- between flags, as a root script that passes flags of its own puts it", () => {
    expect(configurationOf(WORKER, {}, ["--help", "--", "--count", "4"]).demo.count).toBe(4);
  });

  it("reports an unknown flag with the known ones, and still reads the rest", () => {
    const problems = problemsOf({ DEMO_COUNT: "x" }, ["--cuont", "4"]);
    expect(problems.map((p) => p.setting)).toEqual(["command line", "DEMO_COUNT"]);
    expect(problems[0]?.message).toMatch(/Unknown option '--cuont'.*known: --count, --json \(see --help\)/);
  });
});

describe("documentation derived from the declarations", () => {
  it("lists every group's flags and variables with their meaning and default in --help", () => {
    const text = helpText(WORKER);
    expect(text).toContain("Usage: demo [options]");
    expect(text).toContain("Demo:\n  --count N, DEMO_COUNT\n      how many (default: 3)");
    expect(text).toContain("  --json, DEMO_JSON\n      JSON | text (default: false)");
    expect(text).toContain("  DEMO_TOKEN\n      a secret");
    expect(text).toContain("Limits:\n  DEMO_LOW\n      lower bound (default: 1)");
  });

  it("renders the same declarations as a Markdown table", () => {
    expect(settingsTable(SETTINGS).split("\n")).toEqual([
      "| Setting                 | Default | Meaning      |",
      "| ----------------------- | ------- | ------------ |",
      "| `DEMO_COUNT`, `--count` | `3`     | how many     |",
      "| `DEMO_URL`              |         | where        |",
      "| `DEMO_TOKEN`            |         | a secret     |",
      "| `DEMO_JSON`, `--json`   | `false` | JSON \\| text |",
    ]);
  });
});
