/**
 * The run manifest: what a producer run sent, counted from the messages Kafka acknowledged, for
 * whoever checks the pipeline afterwards (`verify`, a test, an operator). sensor-producer writes it
 * (--manifest); report --verify reads it. Declared once, here, so both sides agree on every field.
 * MANIFEST_VERSION bumps when a field changes meaning.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

export const MANIFEST_VERSION = 1;

const counts = z.record(z.string(), z.number().int().nonnegative());

const cityManifestSchema = z.object({
  /** Valid readings sent (first copies): the rows the city's table should hold. */
  readings: z.number().int().nonnegative(),
  byStation: counts,
  /** READINGS_CHECKSUM_ALGORITHM over those readings. */
  checksum: z.string(),
});

const runManifestSchema = z.object({
  manifestVersion: z.literal(MANIFEST_VERSION),
  /** How the stream was made: enough to make it again (same seed, same settings, same stream). */
  run: z.record(z.string(), z.unknown()),
  /** Every message Kafka acknowledged: valid readings, re-sends and invalid ones. */
  messages: z.number().int().nonnegative(),
  valid: z.object({
    readings: z.number().int().nonnegative(),
    checksum: z.string(),
    checksumAlgorithm: z.string(),
    byCity: z.record(z.string(), cityManifestSchema),
  }),
  /** Second copies of valid readings (same id): the sink stores none of them. */
  resends: z.object({ sent: z.number().int().nonnegative(), byStation: counts }),
  /** Messages the sink dead-letters, by the producer's kind and by the sink's dlq.error.kind header. */
  invalid: z.object({ sent: z.number().int().nonnegative(), byKind: counts, bySinkKind: counts }),
  late: z.object({
    /** Valid readings the lateness knob held back. */
    delayed: z.number().int().nonnegative(),
    /**
     * Valid readings sent after a valid reading of the same station observed later (the report's
     * "late"): what the held-back ones became, as the sink stores them.
     */
    outOfOrder: z.number().int().nonnegative(),
    /** The largest gap between such a reading and the later one sent before it, in ms. */
    maxOutOfOrderMs: z.number().nonnegative(),
    byStation: z.record(z.string(), z.object({ delayed: z.number(), outOfOrder: z.number() })),
  }),
  bursts: z.object({
    /** Silences started (a station holding its readings, then flushing them). */
    count: z.number().int().nonnegative(),
    /** Valid readings held back by one. */
    readingsHeld: z.number().int().nonnegative(),
  }),
  /** Each station's clock skew, in ms (the observedAt it stamps minus the simulated instant). */
  clockSkewMs: z.record(z.string(), z.number()),
});

export type RunManifest = z.infer<typeof runManifestSchema>;
export type CityManifest = z.infer<typeof cityManifestSchema>;

/**
 * Reads a manifest file.
 * @throws Error saying which file and what is wrong with it.
 */
export function readRunManifest(path: string): RunManifest {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`cannot read the run manifest ${path}: ${(error as Error).message}`);
  }
  const parsed = runManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${path} is not a run manifest (version ${MANIFEST_VERSION}): ${issue?.path.join(".") || "(root)"}: ${issue?.message}; write one with sensor-producer --manifest`,
    );
  }
  return parsed.data;
}
