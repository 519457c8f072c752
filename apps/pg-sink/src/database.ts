import type { PostgresSecurityOptions } from "@weather/service-kit";
import postgres, { type Sql } from "postgres";

/**
 * The sink's PostgreSQL pool, replaceable. postgres.js 3.4.9 can write to a connection whose
 * socket already closed (a backend terminated mid-transaction: begin() then sends ROLLBACK on
 * it). That throws from a setImmediate, outside any promise (porsager/postgres#1154, #1208), and
 * leaves the connection object unable to flush again, so the pool would slowly fill with dead
 * connections. After any connection-level failure the sink therefore starts a fresh pool and
 * lets the old one drain; main.ts's `survivable` keeps the stray error from killing the process.
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
