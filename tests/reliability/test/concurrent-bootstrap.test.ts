import { readdirSync } from "node:fs";
import {
  bootstrapMonths,
  DEFAULT_MONTH_WINDOW,
  defaultPartitionName,
  MIGRATIONS_FOLDER,
  monthPartitionName,
} from "@weather/db";
import { subjectOf, subjectPath, WIRE_FORMATS } from "@weather/schema";
import { fetchRegistry } from "@weather/service-kit";
import {
  killAllWorkers,
  parseLogLines,
  removeWorld,
  spawnWorker,
  tail,
  testSettings,
  type WorldNames,
  worldNames,
} from "@weather/test-support";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { report, seconds, since } from "../src/report.ts";
import { bootstrapEnv, suiteKafka } from "../src/world.ts";

const TEST = "concurrent-bootstrap";
const PARTITIONS = 4;

interface Summary {
  readonly created: readonly string[];
  readonly found: readonly string[];
  readonly conflicts: readonly string[];
}

function summaryOf(output: string): Summary | undefined {
  const line = parseLogLines(output).find((entry) => entry.msg === "bootstrap finished");
  return line?.summary as Summary | undefined;
}

describe("bootstrap run twice at the same time", () => {
  let names: WorldNames | undefined;

  afterAll(async () => {
    await killAllWorkers();
    if (names !== undefined) await removeWorld(names);
  });

  it("lets both succeed and leaves one set of objects", async () => {
    names = worldNames("reliability", "bootstrap");
    const env = bootstrapEnv(names, PARTITIONS);
    const start = performance.now();
    const runs = [spawnWorker("bootstrap", [], env), spawnWorker("bootstrap", [], env)];
    const exits = await Promise.all(runs.map((run) => run.exited));
    const elapsed = since(start);
    for (const [i, exit] of exits.entries()) expect(exit.code, tail(runs[i]?.output() ?? "")).toBe(0);
    const summaries = runs.map((run) => summaryOf(run.output()));

    const sql = postgres(names.databaseUrl, { max: 1, onnotice: () => {} });
    let tables: string[];
    let partitions: string[];
    let migrations: number;
    try {
      tables = (
        await sql<{ name: string }[]>`
          select tablename as name from pg_tables where schemaname = 'public' order by 1`
      ).map((row) => row.name);
      partitions = (
        await sql<{ name: string }[]>`
          select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'weather_readings'::regclass order by 1`
      ).map((row) => row.name);
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      migrations = row?.n ?? -1;
    } finally {
      await sql.end({ timeout: 5 });
    }

    const admin = suiteKafka(`reliability-${names.runId}`).admin();
    await admin.connect();
    let topics: { topic: string; partitions: number }[];
    try {
      const ours = (await admin.listTopics()).filter((topic) => topic.startsWith(names?.topic ?? "?"));
      const metadata = await admin.fetchTopicMetadata({ topics: ours });
      topics = metadata.topics
        .map((t) => ({ topic: t.name, partitions: t.partitions.length }))
        .sort((a, b) => a.topic.localeCompare(b.topic));
    } finally {
      await admin.disconnect();
    }

    const subjects: Record<string, number[]> = {};
    for (const format of WIRE_FORMATS) {
      const subject = subjectOf(names.topic, format);
      const response = await fetchRegistry(testSettings.registry, `${subjectPath(subject)}/versions`);
      subjects[subject] = response.ok ? ((await response.json()) as number[]) : [];
    }
    const allSubjects = (await (await fetchRegistry(testSettings.registry, "/subjects")).json()) as string[];
    const ourSubjects = allSubjects.filter((subject) => subject.startsWith(names?.topic ?? "?")).sort();

    report(
      TEST,
      `two bootstrap processes at once: exit ${exits.map((e) => e.code).join(" and ")} in ${seconds(elapsed)}`,
      ...summaries.map(
        (summary, i) =>
          `run ${i + 1}: created ${summary?.created.length ?? "?"}, found ${summary?.found.length ?? "?"}, conflicts ${summary?.conflicts.length ?? "?"}`,
      ),
      `claimed as created by both runs: ${
        (summaries[0]?.created ?? []).filter((item) => summaries[1]?.created.includes(item)).join("; ") ||
        "nothing"
      }`,
      `tables ${tables.join(", ")}; partitions of weather_readings ${partitions.join(", ")}; migrations recorded ${migrations}`,
      `topics ${topics.map((t) => `${t.topic} (${t.partitions} partitions)`).join(", ")}`,
      `subjects ${ourSubjects.map((s) => `${s} versions ${JSON.stringify(subjects[s] ?? "?")}`).join(", ")}`,
    );
    for (const summary of summaries) expect(summary?.conflicts).toEqual([]);
    expect(partitions).toEqual(["weather_readings_vancouver", "weather_readings_winnipeg"]);
    // One run's objects, no more: the city tables, each with its months around today and a DEFAULT
    // partition, and every migration recorded once.
    const months = bootstrapMonths(new Date(), DEFAULT_MONTH_WINDOW);
    const cityTables = ["weather_readings_vancouver", "weather_readings_winnipeg"];
    expect([...tables].sort()).toEqual(
      [
        "consumer_offsets",
        "reading_resends",
        "weather_readings",
        ...cityTables,
        ...cityTables.flatMap((city) => [
          ...months.map((month) => monthPartitionName(city, month)),
          defaultPartitionName(city),
        ]),
      ].sort(),
    );
    expect(migrations).toBe(readdirSync(MIGRATIONS_FOLDER).filter((file) => file.endsWith(".sql")).length);
    expect(topics).toEqual([
      { topic: names.topic, partitions: PARTITIONS },
      { topic: names.deadLetterTopic, partitions: PARTITIONS },
    ]);
    expect(ourSubjects).toEqual(WIRE_FORMATS.map((format) => subjectOf(names?.topic ?? "?", format)).sort());
    for (const versions of Object.values(subjects)) expect(versions).toEqual([1]);
  });
});
