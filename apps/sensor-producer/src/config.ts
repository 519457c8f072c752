/**
 * The producer's configuration step: the groups it reads (its own, declared in settings.ts, and
 * the shared ones), each with its reader, and the configuration they make.
 */
import { randomInt } from "node:crypto";
import { READINGS_TOPICS, type Station, type StationCatalog, stationCatalogFrom } from "@weather/schema";
import { KAFKA_CONNECTION, LOGGING, REGISTRY_CONNECTION } from "@weather/service-kit";
import { type ConfigOf, defineSettingsGroup, defineWorkerSettings } from "@weather/settings";
import type { MessyKnobs } from "./messy-stream.ts";
import { type Schedule, selectSchedule } from "./schedule.ts";
import { MESSY_SETTINGS, PRODUCER_SETTINGS, STATION_SETTINGS } from "./settings.ts";

export type Compression = "none" | "gzip";

/** What to send, when, how fast, and where to report it. */
const PRODUCER = defineSettingsGroup({
  title: "sensor-producer",
  settings: PRODUCER_SETTINGS,
  read(values, { problems, failed, sourceOf, now }) {
    const modeSettings = ["count", "interval", "from", "to", "step"] as const;
    // A mode setting that did not parse is reported; the mode is not picked without it.
    if (modeSettings.some((name) => failed(name))) return undefined;
    const schedule = selectSchedule(
      {
        ...(values.count !== undefined ? { count: values.count } : {}),
        intervalMs: values.interval,
        ...(values.from !== undefined ? { fromMs: values.from } : {}),
        ...(values.to !== undefined ? { toMs: values.to } : {}),
        stepMs: values.step,
      },
      now,
    );
    if ("message" in schedule) {
      problems.push({ setting: sourceOf(schedule.setting), message: schedule.message });
      return undefined;
    }
    return Object.freeze({
      schedule: Object.freeze(schedule) as Schedule,
      /** Cap on readings per second over all stations; null: as fast as the broker takes them. */
      ratePerSecond: values.rate ?? null,
      format: values.format,
      /** The reading schema version written; 2 adds pressureHpa. */
      schemaVersion: values.schemaVersion,
      seed: values.seed ?? String(randomInt(2 ** 31)),
      compression: values.compression,
      /** Most readings per produce request. */
      batchSize: values.batchSize,
      /** Longest one batch may wait for its acknowledgement before the run fails. */
      sendTimeoutMs: values.sendTimeout,
      progressIntervalMs: values.progressInterval,
      /** Port of the Prometheus /metrics endpoint; null: none. */
      metricsPort: values.metricsPort ?? null,
      /** Where to write the manifest at the end; null: nowhere. */
      manifestPath: values.manifest ?? null,
    });
  },
});

/** What a messy stream does (all off by default). */
const MESS = defineSettingsGroup({
  title: "Messy streams",
  settings: MESSY_SETTINGS,
  read: (values): MessyKnobs =>
    Object.freeze({
      lateFraction: values.lateFraction,
      lateness: values.lateness,
      resendFraction: values.resendFraction,
      resendDelay: values.resendDelay,
      invalidFraction: values.invalidFraction,
      invalidKinds: Object.freeze(values.invalidKinds),
      burstsPerDay: values.burstsPerDay,
      burstLength: values.burstLength,
      clockSkewMs: values.clockSkew,
    }),
});

/** The stations to simulate, and the catalog they are chosen from. */
export interface StationSelection {
  /** Every station of the catalog, simulated or not (an "unknown station" must be none of them). */
  readonly catalog: StationCatalog;
  /** The stations simulated, in catalog order. */
  readonly selected: readonly Station[];
}

/** Which stations to simulate: PRODUCER_STATIONS of the catalog STATIONS_FILE extends. */
const STATIONS = defineSettingsGroup({
  title: "Stations",
  settings: STATION_SETTINGS,
  read({ stationsFile, stations }, { problems, sourceOf }): StationSelection | undefined {
    const catalog = stationCatalogFrom(stationsFile, problems);
    if (catalog === undefined) return undefined;
    const known = catalog.stations.map((station) => station.id);
    const unknown = (stations ?? []).filter((id) => !known.includes(id));
    if (unknown.length > 0) {
      problems.push({
        setting: sourceOf("stations"),
        message: `unknown station ${unknown.map((id) => `"${id}"`).join(", ")}; known: ${known.join(", ")}`,
      });
      return undefined;
    }
    const selected = catalog.stations.filter((station) => stations?.includes(station.id) ?? true);
    if (selected.length === 0) {
      problems.push({ setting: "STATIONS_FILE", message: "the catalog has no stations" });
      return undefined;
    }
    return Object.freeze({ catalog, selected: Object.freeze(selected) });
  },
});

/** What the producer reads, as --help and its README show it. */
export const PRODUCER_WORKER = defineWorkerSettings({
  name: "sensor-producer",
  summary: "Simulated weather stations sending readings to Kafka through the schema registry.",
  details: [
    "Modes: real time (default; until SIGINT/SIGTERM), --count N, or a backfill with --from [--to|--count].",
    "Messy streams: --late-fraction, --resend-fraction, --invalid-fraction, --bursts-per-day, --clock-skew (seeded; --manifest FILE says what was sent).",
    "Durations: 500ms, 1s, 10m, 1h, 1d (a bare number is milliseconds).",
  ],
  groups: {
    producer: PRODUCER,
    mess: MESS,
    stations: STATIONS,
    topics: READINGS_TOPICS,
    kafka: KAFKA_CONNECTION,
    registry: REGISTRY_CONNECTION,
    logging: LOGGING,
  },
});

/** Everything the producer needs, validated once at start-up and frozen: each group's value. */
export type ProducerConfig = ConfigOf<typeof PRODUCER_WORKER.groups>;
