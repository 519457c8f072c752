import { renameSync, writeFileSync } from "node:fs";
import {
  type CityManifest,
  combineChecksums,
  createReadingsChecksum,
  MANIFEST_VERSION,
  READINGS_CHECKSUM_ALGORITHM,
  type ReadingsChecksum,
  type RunManifest,
} from "@weather/schema";
import { INVALID_KINDS, type InvalidKind, SINK_KIND_OF } from "./invalid.ts";
import type { OutgoingMessage } from "./messy-stream.ts";

// The manifest's fields are declared in @weather/schema (run-manifest.ts), which report --verify
// reads it with; this module counts a run into one and writes it.

/** Counts acknowledged messages into a manifest; feed it batches in the order Kafka took them. */
export interface ManifestBuilder {
  record(batch: readonly OutgoingMessage[]): void;
  build(extra: {
    run: Record<string, unknown>;
    bursts: number;
    clockSkewMs: Record<string, number>;
  }): RunManifest;
}

function increment(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

export function createManifestBuilder(): ManifestBuilder {
  let messages = 0;
  const checksums = new Map<string, ReadingsChecksum>();
  const validByStation: Record<string, Record<string, number>> = {};
  const resends: Record<string, number> = {};
  const invalid: Record<string, number> = {};
  const late: Record<string, { delayed: number; outOfOrder: number }> = {};
  const latestObserved = new Map<string, number>();
  let maxOutOfOrderMs = 0;
  let readingsHeld = 0;

  const lateOf = (station: string) => {
    let entry = late[station];
    if (entry === undefined) {
      entry = { delayed: 0, outOfOrder: 0 };
      late[station] = entry;
    }
    return entry;
  };

  return {
    record(batch) {
      messages += batch.length;
      for (const message of batch) {
        const { reading } = message;
        if (message.kind === "resend") {
          increment(resends, reading.stationId);
          continue;
        }
        if (message.kind === "invalid") {
          increment(invalid, message.invalid);
          continue;
        }
        let checksum = checksums.get(reading.city);
        if (checksum === undefined) {
          checksum = createReadingsChecksum();
          checksums.set(reading.city, checksum);
        }
        checksum.add(reading);
        validByStation[reading.city] ??= {};
        increment(validByStation[reading.city] as Record<string, number>, reading.stationId);
        const station = lateOf(reading.stationId);
        if (message.delayed) station.delayed += 1;
        if (message.held) readingsHeld += 1;
        const observedMs = reading.observedAt.getTime();
        const latest = latestObserved.get(reading.stationId);
        if (latest !== undefined && observedMs < latest) {
          station.outOfOrder += 1;
          maxOutOfOrderMs = Math.max(maxOutOfOrderMs, latest - observedMs);
        } else {
          latestObserved.set(reading.stationId, observedMs);
        }
      }
    },

    build({ run, bursts, clockSkewMs }) {
      const byCity: Record<string, CityManifest> = {};
      for (const city of [...checksums.keys()].sort()) {
        const checksum = checksums.get(city) as ReadingsChecksum;
        byCity[city] = {
          readings: checksum.count,
          byStation: validByStation[city] ?? {},
          checksum: checksum.value(),
        };
      }
      const byKind: Record<string, number> = {};
      const bySinkKind: Record<string, number> = {};
      for (const kind of INVALID_KINDS) {
        const count = invalid[kind] ?? 0;
        if (count === 0) continue;
        byKind[kind] = count;
        increment(bySinkKind, SINK_KIND_OF[kind as InvalidKind], count);
      }
      const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
      const lateStations = Object.values(late);
      return {
        manifestVersion: MANIFEST_VERSION,
        run,
        messages,
        valid: {
          readings: Object.values(byCity).reduce((total, city) => total + city.readings, 0),
          checksum: combineChecksums(...Object.values(byCity).map((city) => city.checksum)),
          checksumAlgorithm: READINGS_CHECKSUM_ALGORITHM,
          byCity,
        },
        resends: { sent: sum(resends), byStation: resends },
        invalid: { sent: sum(invalid), byKind, bySinkKind },
        late: {
          delayed: lateStations.reduce((total, s) => total + s.delayed, 0),
          outOfOrder: lateStations.reduce((total, s) => total + s.outOfOrder, 0),
          maxOutOfOrderMs,
          byStation: late,
        },
        bursts: { count: bursts, readingsHeld },
        clockSkewMs,
      };
    },
  };
}

/** Writes the manifest whole or not at all: a temporary file renamed into place. */
export function writeManifest(path: string, manifest: RunManifest): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(temporary, path);
}
