import { SINK_METRICS } from "@weather/service-kit";
import { parsePrometheusText, type Sample, sumOf } from "./prometheus-text.ts";

const metric = SINK_METRICS.metrics;
/** prom-client's standard process metric (Node's default metrics keep their standard names). */
const PROCESS_START_TIME = "process_start_time_seconds";

/** What one sink's /metrics says, or why it could not be read. */
export interface SinkInstance {
  readonly url: string;
  /** configured: from DASHBOARD_SINK_METRICS_URLS; discovered: a host of the sink group's members. */
  readonly origin: "configured" | "discovered";
  readonly up: boolean;
  /** Why it is down: what failed and where. */
  readonly error: string | null;
  /** When it last answered, ISO 8601; null: never since the dashboard started. */
  readonly lastSeen: string | null;
  readonly rowsWritten: number | null;
  /** Rows per second between the last two answers; null until there are two. */
  readonly rowsPerSecond: number | null;
  readonly deadLettered: number | null;
  /** Dependencies the sink says it is waiting for (weather_sink_waiting_for = 1). */
  readonly waitingFor: readonly string[];
  /** Its own idea of its lag (weather_sink_partition_lag_messages, summed over its partitions). */
  readonly lag: number | null;
  readonly startedAt: string | null;
}

export interface SinkInstances {
  readonly instances: readonly SinkInstance[];
  readonly up: number;
}

/** How long a discovered sink that left the group is still shown (as down, once it stops answering). */
const FORGET_DISCOVERED_MS = 10 * 60_000;

interface Previous {
  readonly at: number;
  readonly rowsWritten: number | null;
  readonly lastSeen: string | null;
}

/**
 * Scrapes the sinks' /metrics: the configured URLs, and every host of the sink group's members on
 * the discovery port. A sink that does not answer is shown down with the reason; a configured one
 * stays listed for good, a discovered one for ten minutes after it left the group.
 */
export class SinkScraper {
  private readonly previous = new Map<string, Previous>();
  private readonly discovered = new Map<string, number>();
  private readonly configured: readonly string[];
  private readonly discoveryPort: number | null;
  private readonly timeoutMs: number;

  constructor(configured: readonly string[], discoveryPort: number | null, timeoutMs: number) {
    this.configured = configured;
    this.discoveryPort = discoveryPort;
    this.timeoutMs = timeoutMs;
  }

  async scrape(memberHosts: readonly string[], now = Date.now()): Promise<SinkInstances> {
    if (this.discoveryPort !== null) {
      for (const host of memberHosts) this.discovered.set(metricsUrlOf(host, this.discoveryPort), now);
    }
    for (const [url, seen] of this.discovered) {
      if (seen < now - FORGET_DISCOVERED_MS) this.discovered.delete(url);
    }
    const targets = new Map<string, SinkInstance["origin"]>();
    for (const url of this.discovered.keys()) targets.set(url, "discovered");
    for (const url of this.configured) targets.set(url, "configured");
    const instances = await Promise.all(
      [...targets].map(([url, origin]) => this.scrapeOne(url, origin, now)),
    );
    return { instances, up: instances.filter((i) => i.up).length };
  }

  private async scrapeOne(url: string, origin: SinkInstance["origin"], now: number): Promise<SinkInstance> {
    const previous = this.previous.get(url);
    let samples: Sample[];
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      samples = parsePrometheusText(await response.text());
      // Labelled counters have no sample before their first increment; build_info always has one.
      if (!samples.some((s) => s.name === SINK_METRICS.buildInfo)) {
        throw new Error(`answers, but serves no ${SINK_METRICS.buildInfo}: is this a pg-sink?`);
      }
    } catch (error) {
      this.previous.set(url, { at: now, rowsWritten: null, lastSeen: previous?.lastSeen ?? null });
      return {
        url,
        origin,
        up: false,
        error: `${url}: ${describeFetchError(error)}`,
        lastSeen: previous?.lastSeen ?? null,
        rowsWritten: null,
        rowsPerSecond: null,
        deadLettered: null,
        waitingFor: [],
        lag: null,
        startedAt: null,
      };
    }
    const rowsWritten = sumOf(samples, metric.rowsWritten.name) ?? 0;
    const seen = new Date(now).toISOString();
    const rowsPerSecond =
      previous?.rowsWritten != null && rowsWritten >= previous.rowsWritten && now > previous.at
        ? (rowsWritten - previous.rowsWritten) / ((now - previous.at) / 1000)
        : null;
    this.previous.set(url, { at: now, rowsWritten, lastSeen: seen });
    const started = sumOf(samples, PROCESS_START_TIME);
    return {
      url,
      origin,
      up: true,
      error: null,
      lastSeen: seen,
      rowsWritten,
      rowsPerSecond,
      deadLettered: sumOf(samples, metric.deadLettered.name) ?? 0,
      waitingFor: samples
        .filter((s) => s.name === metric.waitingFor.name && s.value > 0)
        .map((s) => s.labels.dependency ?? "?"),
      lag: sumOf(samples, metric.partitionLag.name) ?? null,
      startedAt: started !== undefined ? new Date(started * 1000).toISOString() : null,
    };
  }
}

/** http://host:port/metrics, with IPv6 hosts bracketed. */
function metricsUrlOf(host: string, port: number): string {
  const bracketed = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `http://${bracketed}:${port}/metrics`;
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `not answering (${cause.code}); is the sink running?`;
  if ((error as { name?: string }).name === "TimeoutError") return "no answer in time; is the sink stuck?";
  const message = error instanceof Error ? error.message : String(error);
  return cause?.message ? `${message} (${cause.message})` : message;
}
