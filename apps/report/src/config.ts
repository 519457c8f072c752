import { type RunManifest, readRunManifest, SINK_GROUP_SETTINGS, TOPIC_SETTINGS } from "@weather/schema";
import {
  CONNECTION_GROUPS,
  type ConnectionSettings,
  collectProblems,
  LOGGING_SETTINGS,
  readConnectionSettings,
  readSettings,
  type SettingsGroup,
  type SettingsInput,
  setting,
  switchSchema,
  throwIfProblems,
} from "@weather/service-kit";
import { z } from "zod";

const REPORT_SETTINGS = Object.freeze({
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
});

/** Every setting the report reads, as --help and its README show them. */
export const REPORT_SETTING_GROUPS: readonly SettingsGroup[] = Object.freeze([
  { title: "report", settings: REPORT_SETTINGS },
  { title: "Topic and group (--verify)", settings: { ...TOPIC_SETTINGS, ...SINK_GROUP_SETTINGS } },
  ...CONNECTION_GROUPS,
  { title: "Logging", settings: LOGGING_SETTINGS },
]);

export interface ReportConfig {
  readonly json: boolean;
  readonly connections: ConnectionSettings;
  /** Set with --verify: what to verify. */
  readonly verify?: {
    readonly topic: string;
    readonly group: string;
    readonly manifest?: RunManifest;
  };
}

/** Reads the report's configuration, adding every problem to `problems`. */
export function configureReport({ env, commandLine, problems }: SettingsInput): ReportConfig {
  const {
    json,
    verify,
    manifest: manifestFile,
  } = readSettings(REPORT_SETTINGS, { env, commandLine }, problems);
  const connections = collectProblems(problems, "connections", () => readConnectionSettings(env));
  const { readingsTopic } = readSettings(TOPIC_SETTINGS, { env, commandLine }, problems);
  const { sinkGroupId } = readSettings(SINK_GROUP_SETTINGS, { env, commandLine }, problems);
  if (manifestFile !== undefined && !verify) {
    problems.push({ setting: "--manifest", message: "goes with --verify" });
  }
  const manifest =
    manifestFile === undefined
      ? undefined
      : collectProblems(problems, "--manifest", () => readRunManifest(manifestFile));
  throwIfProblems(problems);
  return Object.freeze({
    json,
    connections: connections as ConnectionSettings,
    ...(verify
      ? {
          verify: Object.freeze({
            topic: readingsTopic,
            group: sinkGroupId,
            ...(manifest !== undefined ? { manifest } : {}),
          }),
        }
      : {}),
  });
}
