import postgres, { type Options, type Sql } from "postgres";

/**
 * How to connect beyond the URL: TLS and the password, as @weather/service-kit's postgresOptions
 * builds them from the validated configuration. Every function here takes them last.
 */
export type ConnectOptions = Pick<Options<Record<string, never>>, "ssl" | "pass">;

/**
 * One connection, not a pool: callers here run short administrative sequences, and the advisory
 * lock in migrate.ts is held by a session, so every statement must travel on the same connection.
 */
export function connectOnce(databaseUrl: string, options: ConnectOptions = {}): Sql {
  return postgres(databaseUrl, {
    ...options,
    max: 1,
    connect_timeout: 10,
    // "schema already exists, skipping" and friends: expected on every idempotent run.
    onnotice: () => {},
    connection: {
      application_name: "@weather/db",
      // Bounds the wait for the schema lock (and DDL locks): a run stuck behind a hung one fails
      // with 55P03 lock_not_available instead of hanging forever.
      lock_timeout: 120_000,
    },
  });
}

/** The database a postgres:// URL names (its path), decoded. */
export function databaseNameOf(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ""));
  if (name === "")
    throw new Error(`DATABASE_URL names no database (expected e.g. postgres://host:5432/weather)`);
  return name;
}

/** The same server and credentials, but the maintenance database `postgres`, which always exists. */
export function maintenanceUrlOf(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = "/postgres";
  return url.toString();
}
