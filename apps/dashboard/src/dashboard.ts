import type { Logger } from "@weather/service-kit";
import { CitySeriesCache, DAY_WINDOW, WEEK_WINDOW } from "./city-series.ts";
import type { DashboardConfig } from "./config.ts";
import { DashboardState, type SourceData, type SourceName } from "./dashboard-state.ts";
import { describeDatabaseError, openReadOnlyPool } from "./database.ts";
import { DeadLetterWindow } from "./dead-letters.ts";
import { startWebServer } from "./http-server.ts";
import { describeKafkaError, KafkaConnection } from "./kafka-client.ts";
import { queryConsumerLag } from "./kafka-lag.ts";
import { queryLatestReadings } from "./latest-readings.ts";
import { type Poller, startPoller } from "./poller.ts";
import { InsertRate, readInsertCounters } from "./rows-stored.ts";
import { SinkScraper } from "./sink-metrics.ts";

export interface Dashboard {
  /** The port the page is served on (the one picked when DASHBOARD_PORT is 0). */
  readonly port: number;
  readonly state: DashboardState;
  /** Stops refreshing, closes the page's streams and every connection; idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts everything the page shows: one poller per source (PostgreSQL: latest readings, the day
 * and week series, rows stored per second; Kafka: the group's lag and members, the dead letters;
 * the sinks' /metrics), the state they feed, and the web server that pushes it to pages. Sources
 * fail and recover on their own; only the web server failing to listen stops the start.
 */
export async function startDashboard(config: DashboardConfig, logger: Logger): Promise<Dashboard> {
  const { dashboard, topics } = config;
  const { stations } = config.catalog;
  const state = new DashboardState(stations);
  const sql = openReadOnlyPool(config.postgres, dashboard.sourceTimeoutMs);
  const kafka = new KafkaConnection(config.kafka, logger);
  const insertRate = new InsertRate();
  const deadLetters = new DeadLetterWindow(kafka.kafka, topics.deadLetters, dashboard.sourceTimeoutMs);
  const scraper = new SinkScraper(
    dashboard.sinkMetricsUrls,
    dashboard.sinkDiscoveryPort,
    Math.min(3_000, dashboard.sourceTimeoutMs),
  );
  const fromDatabase = (error: unknown) => describeDatabaseError(error, config.postgres.url);
  const fromKafka = (topic: string) => (error: unknown) =>
    describeKafkaError(error, config.kafka.brokers, topic);

  const pollers: Poller<unknown>[] = [];
  const poll = <K extends SourceName>(
    name: K,
    intervalMs: number,
    read: () => Promise<SourceData[K]>,
    describeError: (error: unknown) => string,
  ): Poller<SourceData[K]> => {
    const poller = startPoller<SourceData[K]>({
      name,
      intervalMs,
      timeoutMs: dashboard.sourceTimeoutMs,
      poll: read,
      describeError,
      onChange: (next) => state.update(name, next),
      logger,
    });
    pollers.push(poller as Poller<unknown>);
    return poller;
  };

  poll("latest", dashboard.refreshMs, () => queryLatestReadings(sql, stations), fromDatabase);
  const day = new CitySeriesCache(DAY_WINDOW, dashboard.seriesRecomputeMs);
  const week = new CitySeriesCache(WEEK_WINDOW, dashboard.seriesRecomputeMs);
  poll("day", dashboard.seriesRefreshMs, () => day.refresh(sql, new Date()), fromDatabase);
  poll("week", dashboard.seriesRefreshMs, () => week.refresh(sql, new Date()), fromDatabase);
  poll(
    "rowsStored",
    dashboard.refreshMs,
    async () => insertRate.add(await readInsertCounters(sql)),
    fromDatabase,
  );
  const lag = poll(
    "lag",
    dashboard.refreshMs,
    () => kafka.withAdmin((admin) => queryConsumerLag(admin, topics.readings, config.sinkGroup)),
    fromKafka(topics.readings),
  );
  poll(
    "sinks",
    dashboard.refreshMs,
    () => scraper.scrape(lag.state().data?.members.map((m) => m.host) ?? []),
    (error) => `cannot scrape the sinks: ${(error as Error).message}`,
  );
  poll(
    "deadLetters",
    dashboard.refreshMs,
    () => kafka.withAdmin((admin) => deadLetters.refresh(admin, new Date())),
    fromKafka(topics.deadLetters),
  );
  void warnIfWritable(sql, logger);

  let server: Awaited<ReturnType<typeof startWebServer>>;
  try {
    server = await startWebServer({ host: dashboard.host, port: dashboard.port, state });
  } catch (error) {
    await Promise.all(pollers.map((p) => p.stop()));
    await Promise.all([kafka.close(), sql.end({ timeout: 1 })]);
    throw error;
  }
  logger.info(
    { host: dashboard.host, port: server.port },
    `dashboard at http://${displayHost(dashboard.host)}:${server.port}/`,
  );

  let stopping: Promise<void> | undefined;
  return {
    port: server.port,
    state,
    stop() {
      stopping ??= (async () => {
        await server.close();
        await Promise.all(pollers.map((p) => p.stop()));
        await Promise.all([kafka.close(), sql.end({ timeout: 2 })]);
      })();
      return stopping;
    },
  };
}

/** The read-only role is the intended way in; say so when DATABASE_URL names a role that may write. */
async function warnIfWritable(sql: ReturnType<typeof openReadOnlyPool>, logger: Logger): Promise<void> {
  try {
    const [row] = await sql<{ role: string; writable: boolean }[]>`
      select current_user as role, has_table_privilege('weather_readings', 'INSERT') as writable`;
    if (row?.writable) {
      logger.warn(
        { role: row.role },
        `role ${row.role} may write to weather_readings; the dashboard needs only SELECT: run it as the read-only role bootstrap creates (READER_DB_ROLE, default weather_reader)`,
      );
    }
  } catch {
    // The latest-readings source reports an unreachable or unprepared database on the page.
  }
}

function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
