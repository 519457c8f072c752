/**
 * The suite's checker: `report --verify`, the command operators run, as a process, on a world.
 * Every offset of the world's topic must be a stored row, a dead letter or a recorded re-send.
 */
import { type Exit, tail } from "@weather/test-support";
import { mebibytes, runMeasured } from "./measure.ts";
import type { World } from "./world.ts";

/** What verify --json prints (the fields the suite reads; offsets as strings). */
export interface Verification {
  readonly holds: boolean;
  readonly partitions: readonly {
    readonly partition: number;
    readonly rows: number;
    readonly deadLetters: number;
    readonly resends: number;
    readonly notReturned: number;
    readonly gaps: number;
    readonly gapExamples: readonly string[];
    readonly duplicates: number;
    readonly duplicateExamples: readonly string[];
    readonly lag: string;
  }[];
  readonly idsStoredTwice: number;
  readonly deadLettersByKind: Readonly<Record<string, number>>;
  readonly manifest: readonly {
    readonly what: string;
    readonly sent: string;
    readonly found: string;
    readonly ok: boolean;
  }[];
}

export interface VerifyRun {
  readonly exit: Exit;
  readonly result: Verification;
  /** One line for the test's report: totals and the verdict. */
  readonly summary: string;
  /** How long the command ran, start to exit, and the most memory it held. */
  readonly wallMs: number;
  readonly peakRssBytes: number;
}

/** Runs `report --verify --json` on the world (with a producer's manifest, when given). */
export async function verifyWorld(world: World, manifest?: string): Promise<VerifyRun> {
  const { exit, worker, wallMs, peakRssBytes } = await runMeasured(
    "report",
    ["--verify", "--json", ...(manifest === undefined ? [] : ["--manifest", manifest])],
    {
      DATABASE_URL: world.databaseUrl,
      READINGS_TOPIC: world.topic,
      SINK_GROUP_ID: world.groupId,
      LOG_LEVEL: "warn",
    },
    300_000,
  );
  const line = worker
    .stdout()
    .split("\n")
    .find((text) => text.startsWith("{") && text.includes('"partitions"'));
  if (line === undefined) {
    throw new Error(`report --verify printed no result (exit ${exit.code}):\n${tail(worker.output())}`);
  }
  const result = JSON.parse(line) as Verification;
  const total = (pick: (p: Verification["partitions"][number]) => number) =>
    result.partitions.reduce((sum, p) => sum + pick(p), 0);
  const summary =
    `verify: rows ${total((p) => p.rows)}, dead letters ${total((p) => p.deadLetters)}, ` +
    `re-sends ${total((p) => p.resends)}, not in Kafka ${total((p) => p.notReturned)}, ` +
    `gaps ${total((p) => p.gaps)}, duplicates ${total((p) => p.duplicates)}; ` +
    (result.holds ? "every offset accounted for exactly once" : "NOT VERIFIED") +
    (result.manifest.length > 0
      ? `; manifest ${result.manifest.filter((c) => c.ok).length}/${result.manifest.length} checks equal`
      : "") +
    `; ${(wallMs / 1000).toFixed(1)}s, peak ${mebibytes(peakRssBytes)}`;
  return { exit, result, summary, wallMs, peakRssBytes };
}
