import { EventEmitter } from "node:events";
import type { Station } from "@weather/schema";
import type { SeriesResult } from "./city-series.ts";
import type { DeadLettersSummary } from "./dead-letters.ts";
import type { ConsumerLag } from "./kafka-lag.ts";
import type { LatestReadings } from "./latest-readings.ts";
import type { SourceState } from "./poller.ts";
import type { RowsStored } from "./rows-stored.ts";
import type { SinkInstances } from "./sink-metrics.ts";

/** What each source delivers; the page draws one section (or part of one) per source. */
export interface SourceData {
  readonly latest: LatestReadings;
  readonly day: SeriesResult;
  readonly week: SeriesResult;
  readonly rowsStored: RowsStored;
  readonly lag: ConsumerLag;
  readonly sinks: SinkInstances;
  readonly deadLetters: DeadLettersSummary;
}

export type SourceName = keyof SourceData;
const SOURCE_NAMES: readonly SourceName[] = Object.freeze([
  "latest",
  "day",
  "week",
  "rowsStored",
  "lag",
  "sinks",
  "deadLetters",
]);

/** A station as the page needs it: where it is and which time zone its times are shown in. */
export interface StationInfo {
  readonly id: string;
  readonly name: string;
  readonly city: string;
  readonly timeZone: string;
}

/** Everything the page shows, sent whole when it connects. */
export interface Snapshot {
  readonly stations: readonly StationInfo[];
  readonly sources: { readonly [K in SourceName]: SourceState<SourceData[K]> | null };
}

/** One source's new state, pushed to every open page. */
export interface SourceUpdate<K extends SourceName = SourceName> {
  readonly name: K;
  readonly state: SourceState<SourceData[K]>;
}

/** The latest state of every source, and an event for each change. */
export class DashboardState {
  private readonly events = new EventEmitter();
  private readonly sources = new Map<SourceName, SourceState<unknown>>();
  readonly stations: readonly StationInfo[];

  constructor(stations: readonly Station[]) {
    this.stations = stations.map(({ id, name, city, timeZone }) => ({ id, name, city, timeZone }));
    // One listener per open page; a few dozen viewers are expected, not thousands.
    this.events.setMaxListeners(0);
  }

  update<K extends SourceName>(name: K, state: SourceState<SourceData[K]>): void {
    this.sources.set(name, state);
    this.events.emit("update", { name, state } satisfies SourceUpdate<K>);
  }

  snapshot(): Snapshot {
    const sources = Object.fromEntries(SOURCE_NAMES.map((name) => [name, this.sources.get(name) ?? null]));
    return { stations: this.stations, sources: sources as Snapshot["sources"] };
  }

  /** Calls `listener` on every update until the returned function is called. */
  subscribe(listener: (update: SourceUpdate) => void): () => void {
    this.events.on("update", listener);
    return () => this.events.off("update", listener);
  }
}
