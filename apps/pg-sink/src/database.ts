import type { Logger, PostgresSecurityOptions } from "@weather/service-kit";
import postgres, { type Sql } from "postgres";
import { isTransientDatabaseError } from "./outage.ts";

/**
 * The sink's PostgreSQL pool, replaceable. postgres.js 3.4.9 can write to a connection whose
 * socket already closed (a backend terminated mid-transaction: begin() then sends ROLLBACK on
 * it). That throws from a setImmediate, outside any promise (porsager/postgres#1154, #1208), and
 * leaves the connection object unable to flush again, so the pool would slowly fill with dead
 * connections. After any connection-level failure the sink therefore starts a fresh pool and
 * lets the old one drain; guardAgainstPostgresDefects keeps the stray error from killing the process.
 */
export interface DatabasePool {
  current(): Sql;
  /** Replaces the pool; the old one ends in the background. */
  renew(): void;
  end(): Promise<void>;
}

export function createDatabasePool(
  databaseUrl: string,
  applicationName: string,
  security: PostgresSecurityOptions = { ssl: false },
): DatabasePool {
  const open = () =>
    postgres(databaseUrl, {
      ...security,
      max: 4,
      connect_timeout: 10,
      idle_timeout: 60,
      onnotice: () => {},
      connection: { application_name: applicationName },
    });
  let sql = open();
  const draining = new Set<Promise<void>>();
  return {
    current: () => sql,
    renew() {
      const old = sql;
      sql = open();
      const ended = old.end({ timeout: 1 }).catch(() => {});
      draining.add(ended);
      void ended.then(() => draining.delete(ended));
    },
    async end() {
      await Promise.all([sql.end({ timeout: 5 }), ...draining]);
    },
  };
}

/**
 * The postgres.js defect described above: a TypeError thrown by connection.js's nextWrite on a
 * null socket. Recognised narrowly (message and frame), so no other uncaught error is ever hidden.
 */
export function isPostgresNullSocketBug(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    /reading 'write'/.test(error.message) &&
    /nextWrite/.test(error.stack ?? "") &&
    /postgres[/\\]src[/\\]connection\.js/.test(error.stack ?? "")
  );
}

/**
 * For the process that owns the sink: postgres.js 3.4.9 throws from a timer when a backend dies
 * under it, and may leave a dead query's rejection unobserved. Those two are survived, because the
 * sink awaits every query of its own, so the transaction concerned has already failed and is
 * retried; the pool is renewed. Any other uncaught error is a bug: log it and exit 1.
 */
export function guardAgainstPostgresDefects(logger: Logger, renewPool: () => void): void {
  const survivable = (error: unknown) => {
    if (!isPostgresNullSocketBug(error) && !isTransientDatabaseError(error)) return false;
    logger.warn(
      { err: error },
      "postgres.js failed outside any query (porsager/postgres#1208); renewing the pool",
    );
    renewPool();
    return true;
  };
  process.on("uncaughtException", (error) => {
    if (survivable(error)) return;
    logger.fatal({ err: error }, "uncaught exception; exiting");
    process.exit(1);
  });
  process.on("unhandledRejection", (reason) => {
    if (survivable(reason)) return;
    logger.fatal({ err: reason }, "unhandled promise rejection; exiting");
    process.exit(1);
  });
}
