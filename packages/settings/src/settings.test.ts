import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { ConfigProblem } from "./config-error.ts";
import { helpText, readCommandLine, readSettings, setting, settingsTable, switchSchema } from "./settings.ts";

const SETTINGS = Object.freeze({
  count: setting({
    env: "DEMO_COUNT",
    flag: "count",
    value: "N",
    description: "how many",
    default: "3",
    schema: z.coerce.number().int("must be a whole number").min(1, "must be at least 1"),
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
const GROUPS = [{ title: "Demo", settings: SETTINGS }];

function read(env: Record<string, string>, argv: string[] = []) {
  const problems: ConfigProblem[] = [];
  const commandLine = readCommandLine(argv, GROUPS, problems);
  return { values: readSettings(SETTINGS, { env, commandLine }, problems), problems, commandLine };
}

describe("readSettings", () => {
  it("takes the default, then the variable, then the flag", () => {
    expect(read({}).values).toEqual({ count: 3, json: false });
    expect(read({ DEMO_COUNT: "5", DEMO_JSON: "yes" }).values).toEqual({ count: 5, json: true });
    expect(read({ DEMO_COUNT: "5" }, ["--count", "7", "--json"]).values).toEqual({ count: 7, json: true });
  });

  it("treats an empty variable as unset", () => {
    expect(read({ DEMO_COUNT: "  " }).values.count).toBe(3);
  });

  it("names where each bad value came from, echoes it (never a secret or a URL's password), all at once", () => {
    const { problems } = read({ DEMO_URL: "nope://u:hunter2@", DEMO_TOKEN: "short" }, ["--count", "0"]);
    expect(problems).toEqual([
      { setting: "--count", message: '"0": must be at least 1' },
      { setting: "DEMO_URL", message: '"nope://u:***@": must be a URL' },
      { setting: "DEMO_TOKEN", message: "(hidden): too short" },
    ]);
  });
});

describe("readCommandLine", () => {
  it("drops the leading -- that npm and pnpm users type before a script's flags", () => {
    expect(read({}, ["--", "--count", "4"]).values.count).toBe(4);
    expect(read({}, ["--", "--help"]).commandLine.help).toBe(true);
  });

  it("drops a -- between flags, as a root script that passes flags of its own puts it", () => {
    expect(read({}, ["--help", "--", "--count", "4"]).values.count).toBe(4);
  });

  it("reports an unknown flag with the known ones, and still reads the rest", () => {
    const { problems, values } = read({ DEMO_COUNT: "x" }, ["--cuont", "4"]);
    expect(problems.map((p) => p.setting)).toEqual(["command line", "DEMO_COUNT"]);
    expect(problems[0]?.message).toMatch(/Unknown option '--cuont'.*known: --count, --json \(see --help\)/);
    expect(values.count).toBeUndefined();
  });
});

describe("documentation derived from the declarations", () => {
  it("lists every flag and variable with its meaning and default in --help", () => {
    const text = helpText({ name: "demo", summary: "Does a demo.", groups: GROUPS });
    expect(text).toContain("Usage: demo [options]");
    expect(text).toContain("  --count N, DEMO_COUNT\n      how many (default: 3)");
    expect(text).toContain("  --json, DEMO_JSON\n      JSON | text (default: false)");
    expect(text).toContain("  DEMO_TOKEN\n      a secret");
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
