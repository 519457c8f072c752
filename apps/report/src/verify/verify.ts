/**
 * `verify`: proves what the sink claims for a topic and consumer group. For each partition, every
 * offset below the offset stored in PostgreSQL is exactly one of a stored row, a dead letter, or a
 * recorded re-send (a reading stored before, from another offset), unless Kafka does not return it
 * (a transaction marker, a compacted record). With a producer's run manifest, it also compares
 * what was sent with what is stored, reading by reading (a checksum) and count by count.
 */
import type { RunManifest } from "@weather/schema";
import type { Admin, Kafka } from "kafkajs";
import type { Sql } from "postgres";
import { accountsHold, type PartitionAccount, PartitionLedger } from "./accounting.ts";
import {
  markDeadLetters,
  markReturned,
  markStored,
  partitionBounds,
  type StoredCounts,
  storedAnomalies,
  storedCounts,
} from "./sources.ts";

export interface VerifyTarget {
  readonly sql: Sql;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly group: string;
  readonly manifest?: RunManifest;
}

/** One comparison of the manifest with what is stored. */
export interface ManifestCheck {
  readonly what: string;
  readonly sent: string;
  readonly found: string;
  readonly ok: boolean;
}

export interface VerifyResult {
  readonly topic: string;
  readonly group: string;
  readonly partitions: readonly PartitionAccount[];
  /** Dead letters of the topic, by the sink's kind. */
  readonly deadLettersByKind: Readonly<Record<string, number>>;
  /** Dead letters whose headers name no partition and offset: they account for nothing. */
  readonly deadLettersUnplaced: number;
  /** Reading ids stored more than once (under another city or observation time). */
  readonly idsStoredTwice: number;
  /** Recorded re-sends whose reading is not stored. */
  readonly resendsOfNothing: number;
  readonly manifest: readonly ManifestCheck[];
  /** Every offset accounted for exactly once, and the manifest (if any) matched. */
  readonly holds: boolean;
}

/**
 * PostgreSQL's whole-table passes (readings stored twice, the checksums) run on the server while
 * this process reads Kafka, which is where its own time goes: the two overlap instead of adding up.
 * Both are one pass over the rows (about 3 s per million); the ledgers take a few bytes per offset.
 */
export async function verifyPipeline(target: VerifyTarget): Promise<VerifyResult> {
  const { sql, kafka, admin, topic, deadLetterTopic, group } = target;
  const bounds = await partitionBounds(admin, sql, topic, group);
  const ledgers = new Map(bounds.map((b) => [b.partition, new PartitionLedger(b)]));
  const [anomalies, stored, deadLetters] = await Promise.all([
    storedAnomalies(sql, topic),
    target.manifest === undefined ? undefined : storedCounts(sql),
    (async () => {
      await markReturned(kafka, admin, topic, ledgers);
      await markStored(sql, topic, ledgers);
      return markDeadLetters(kafka, admin, topic, deadLetterTopic, ledgers);
    })(),
  ]);
  const partitions = [...ledgers.values()].map((ledger) => ledger.account());
  const manifest =
    target.manifest === undefined || stored === undefined
      ? []
      : compareManifest(target.manifest, stored, partitions, deadLetters.byKind);
  return {
    topic,
    group,
    partitions,
    deadLettersByKind: deadLetters.byKind,
    deadLettersUnplaced: deadLetters.unplaced,
    idsStoredTwice: anomalies.idsStoredTwice,
    resendsOfNothing: anomalies.resendsOfNothing,
    manifest,
    holds:
      accountsHold(partitions) &&
      anomalies.idsStoredTwice === 0 &&
      anomalies.resendsOfNothing === 0 &&
      manifest.every((check) => check.ok),
  };
}

const check = (what: string, sent: number | string, found: number | string): ManifestCheck => ({
  what,
  sent: String(sent),
  found: String(found),
  ok: String(sent) === String(found),
});

/**
 * The manifest against what PostgreSQL and the dead-letter topic hold: valid readings per city and
 * station, each city's checksum (every value of every reading), the re-sends recorded, and the
 * dead letters by the sink's kind. A city, station or kind on one side only is compared with 0.
 */
export function compareManifest(
  manifest: RunManifest,
  stored: StoredCounts,
  partitions: readonly Pick<PartitionAccount, "resends">[],
  deadLettersByKind: Readonly<Record<string, number>>,
): ManifestCheck[] {
  const checks: ManifestCheck[] = [];
  const cities = new Set([...Object.keys(manifest.valid.byCity), ...stored.cities.map((c) => c.city)]);
  for (const city of [...cities].sort()) {
    const sent = manifest.valid.byCity[city];
    const found = stored.cities.find((c) => c.city === city);
    checks.push(check(`readings of ${city}`, sent?.readings ?? 0, found?.readings ?? 0));
    checks.push(check(`checksum of ${city}`, sent?.checksum ?? "(none)", found?.checksum ?? "(none)"));
    for (const [station, count] of Object.entries(sent?.byStation ?? {}).sort()) {
      checks.push(check(`readings of station ${station}`, count, stored.byStation.get(station) ?? 0));
    }
  }
  const resends = partitions.reduce((sum, p) => sum + p.resends, 0);
  checks.push(check("re-sends recorded", manifest.resends.sent, resends));
  const kinds = new Set([...Object.keys(manifest.invalid.bySinkKind), ...Object.keys(deadLettersByKind)]);
  for (const kind of [...kinds].sort()) {
    checks.push(
      check(`dead letters ${kind}`, manifest.invalid.bySinkKind[kind] ?? 0, deadLettersByKind[kind] ?? 0),
    );
  }
  return checks;
}
