import type { PostgresSecurityOptions } from "@weather/service-kit";
import postgres, { type Sql } from "postgres";

/**
 * The sink's PostgreSQL pool, one for the sink's life. postgres.js reconnects a connection whose
 * backend was terminated or whose server restarted on its next query; patches/postgres@3.4.9.patch
 * makes sure nothing of the dead session is left to break that (docs/dependencies.md).
 */
export interface DatabasePool {
  current(): Sql;
  end(): Promise<void>;
}

export function createDatabasePool(
  databaseUrl: string,
  applicationName: string,
  security: PostgresSecurityOptions = { ssl: false },
): DatabasePool {
  const sql = postgres(databaseUrl, {
    ...security,
    max: 4,
    connect_timeout: 10,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: applicationName },
  });
  return {
    current: () => sql,
    end: () => sql.end({ timeout: 5 }),
  };
}
