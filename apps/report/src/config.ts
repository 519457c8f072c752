import { READINGS_TOPICS, type RunManifest, readRunManifest, SINK_GROUP } from "@weather/schema";
import { KAFKA_CONNECTION, LOGGING, POSTGRES_CONNECTION } from "@weather/service-kit";
import {
  type ConfigOf,
  defineSettingsGroup,
  defineWorkerSettings,
  setting,
  switchSchema,
} from "@weather/settings";
import { z } from "zod";

/** What the report prints, and how. */
export interface ReportSettings {
  /** JSON instead of tables. */
  readonly json: boolean;
  /** The verification instead of the summary. */
  readonly verify: boolean;
  /** With verify: what a producer run sent, to compare with. */
  readonly manifest?: RunManifest;
}

/** What to print: the summary or the verification, as tables or JSON, and a manifest to compare with. */
const REPORT = defineSettingsGroup({
  title: "report",
  settings: {
    json: setting({
      env: "REPORT_JSON",
      flag: "json",
      switch: true,
      description: "print the summary (or, with --verify, the verification) as JSON instead of tables",
      default: "false",
      schema: switchSchema,
    }),
    verify: setting({
      env: "REPORT_VERIFY",
      flag: "verify",
      switch: true,
      description:
        "prove what the sink claims: every offset below the stored offset is a row, a dead letter or a recorded re-send (exit 5 if not)",
      default: "false",
      schema: switchSchema,
    }),
    manifest: setting({
      env: "REPORT_MANIFEST",
      flag: "manifest",
      value: "FILE",
      description: "with --verify, also compare with what a producer run sent (its --manifest file)",
      schema: z.string().trim().min(1),
    }),
  },
  read({ json, verify, manifest: file }, { problems }): ReportSettings | undefined {
    if (file === undefined) return Object.freeze({ json, verify });
    if (!verify) problems.push({ setting: "--manifest", message: "goes with --verify" });
    let manifest: RunManifest;
    try {
      manifest = readRunManifest(file);
    } catch (error) {
      problems.push({ setting: "--manifest", message: (error as Error).message });
      return undefined;
    }
    return Object.freeze({ json, verify, manifest });
  },
});

/** Only --verify reads Kafka, the topics and the sink's group. */
const forVerify = <G extends { readonly title: string }>(group: G): G =>
  Object.freeze({ ...group, title: `${group.title} (--verify)` });

/** What the report reads, as --help and its README show it. */
export const REPORT_WORKER = defineWorkerSettings({
  name: "report",
  summary:
    "Prints what PostgreSQL holds, per city table; with --verify, proves every offset of the topic is accounted for.",
  usage: "[--json] [--verify [--manifest FILE]]",
  groups: {
    report: REPORT,
    topics: forVerify(READINGS_TOPICS),
    sinkGroup: forVerify(SINK_GROUP),
    postgres: POSTGRES_CONNECTION,
    kafka: forVerify(KAFKA_CONNECTION),
    logging: LOGGING,
  },
});

/** Everything the report needs, validated once and frozen: each group's value. */
export type ReportConfig = ConfigOf<typeof REPORT_WORKER.groups>;
