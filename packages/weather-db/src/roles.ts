import { getTableName } from "drizzle-orm";
import type { Sql } from "postgres";
import { type ConnectOptions, connectOnce, databaseNameOf } from "./connect.ts";
import { withSchemaLock } from "./migrate.ts";
import { consumerOffsets, readingResends, weatherReadings } from "./tables.ts";

/** What ensureSinkRole or ensureReaderRole found and did. */
export interface RoleResult {
  readonly role: string;
  readonly created: boolean;
  /** Tables the role may use: the readings parent, its partitions, the offsets table. */
  readonly tables: readonly string[];
  /** Those of them it could not use before this call (all of them in a fresh database). */
  readonly newlyGranted: readonly string[];
}

export interface RoleOptions {
  /** A PostgreSQL role name; created with LOGIN if missing. */
  readonly role: string;
  /** Set (or reset) as the role's password; absent: the password is left as it is. */
  readonly password?: string;
}

const DUPLICATE_OBJECT = "42710";
const UNIQUE_VIOLATION = "23505";

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * The role is one row of the server-wide pg_authid: bootstraps of two databases at once may update
 * it together, and the loser fails with "tuple concurrently updated" (XX000). Trying again wins.
 */
async function retryConcurrentUpdate(work: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await work();
      return;
    } catch (error) {
      if (attempt >= 5 || !/concurrently/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

async function roleExists(sql: Sql, role: string): Promise<boolean> {
  const [row] = await sql`select 1 from pg_roles where rolname = ${role}`;
  return row !== undefined;
}

type TablePrivilege = "select" | "insert" | "update";

/**
 * What one role may do: on the readings (the parent and every city partition), on the offsets, and
 * on the record of re-sent readings.
 */
interface TableGrants {
  readonly readings: readonly TablePrivilege[];
  readonly offsets: readonly TablePrivilege[];
  readonly resends: readonly TablePrivilege[];
}

/**
 * The sink's least privilege: it may read and add readings (the partitioned parent, through which
 * it inserts, and every city partition, for readers that go to them directly), read, add and
 * update its offsets, read and add re-sent readings' records, and create temporary tables (its
 * staging table for duplicates); nothing else. No DELETE, no TRUNCATE, no DDL: CREATE on the schema is revoked
 * from PUBLIC (PostgreSQL 15+ already does so), and the role owns nothing. Roles belong to the
 * server, grants to this database; run after every partition change (bootstrap does, each run).
 */
export function ensureSinkRole(
  databaseUrl: string,
  options: RoleOptions,
  connect: ConnectOptions = {},
): Promise<RoleResult> {
  return ensureRoleWithGrants(
    databaseUrl,
    options,
    {
      readings: ["select", "insert"],
      offsets: ["select", "insert", "update"],
      resends: ["select", "insert"],
    },
    connect,
  );
}

/**
 * A read-only role, for the dashboard and other readers: SELECT on the readings (the parent and
 * every city partition) and on the offsets table, nothing else; no INSERT, UPDATE, DELETE,
 * TRUNCATE or DDL, as for the sink's role. Its sessions also default to read-only transactions,
 * a second line should a grant ever be widened by hand. Run after every partition change.
 */
export async function ensureReaderRole(
  databaseUrl: string,
  options: RoleOptions,
  connect: ConnectOptions = {},
): Promise<RoleResult> {
  const result = await ensureRoleWithGrants(
    databaseUrl,
    options,
    { readings: ["select"], offsets: ["select"], resends: ["select"] },
    connect,
  );
  const sql = connectOnce(databaseUrl, connect);
  try {
    // A role setting of this database only: the same role may exist for other databases.
    await retryConcurrentUpdate(() =>
      sql.unsafe(
        `alter role ${quoteIdentifier(options.role)} in database ${quoteIdentifier(databaseNameOf(databaseUrl))} set default_transaction_read_only = on`,
      ),
    );
  } finally {
    await sql.end({ timeout: 5 });
  }
  return result;
}

/**
 * Creates `options.role` with LOGIN if missing, sets its password when given, and leaves it with
 * exactly `grants` on the readings and the offsets (everything else on them revoked), CONNECT on
 * the database and USAGE on the schema. CREATE on the schema is revoked from PUBLIC.
 */
async function ensureRoleWithGrants(
  databaseUrl: string,
  options: RoleOptions,
  grants: TableGrants,
  connect: ConnectOptions,
): Promise<RoleResult> {
  const { role } = options;
  const sql = connectOnce(databaseUrl, connect);
  try {
    return await withSchemaLock(sql, async () => {
      let created = false;
      if (!(await roleExists(sql, role))) {
        try {
          await sql.unsafe(`create role ${quoteIdentifier(role)} login`);
          created = true;
        } catch (error) {
          // Another bootstrap (of any database on this server) created it first.
          const code = (error as { code?: unknown }).code;
          if (code !== DUPLICATE_OBJECT && code !== UNIQUE_VIOLATION) throw error;
        }
      }
      if (options.password !== undefined) {
        // DDL takes no bind parameters. The statement is never logged by us; PostgreSQL logs it
        // only when it fails or log_statement=ddl, which a production server should not set.
        await retryConcurrentUpdate(() =>
          sql.unsafe(
            `alter role ${quoteIdentifier(role)} with login password ${quoteLiteral(options.password ?? "")}`,
          ),
        );
      }
      const parent = getTableName(weatherReadings);
      const offsets = getTableName(consumerOffsets);
      const resends = getTableName(readingResends);
      const partitions = await sql<{ name: string }[]>`
        select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = to_regclass(${quoteIdentifier(parent)}) order by 1`;
      const readings = [parent, ...partitions.map((p) => p.name)];
      const who = quoteIdentifier(role);
      const granted: (readonly [string, readonly TablePrivilege[]])[] = [
        ...readings.map((t) => [t, grants.readings] as const),
        [offsets, grants.offsets] as const,
        [resends, grants.resends] as const,
      ];
      const newlyGranted: string[] = [];
      for (const [table, privileges] of granted) {
        const [row] = await sql<{ ok: boolean }[]>`
          select bool_and(has_table_privilege(${role}::name, ${quoteIdentifier(table)}::text, p)) as ok
          from unnest(${[...privileges]}::text[]) as p`;
        if (!row?.ok) newlyGranted.push(table);
      }
      // TEMPORARY: a chunk holding readings already stored goes through a temporary staging table
      // (pg-sink's sql/stage-rows.ts). PUBLIC has it by default; granted by name, it survives a server
      // that revokes it from PUBLIC. A temporary table is the session's own and dropped at commit.
      await retryConcurrentUpdate(() =>
        sql.unsafe(
          `grant connect, temporary on database ${quoteIdentifier(databaseNameOf(databaseUrl))} to ${who}`,
        ),
      );
      await sql.unsafe("revoke create on schema public from public");
      await sql.unsafe(`grant usage on schema public to ${who}`);
      for (const [table, privileges] of granted) {
        await sql.unsafe(`revoke all on table ${quoteIdentifier(table)} from ${who}`);
        await sql.unsafe(`grant ${privileges.join(", ")} on table ${quoteIdentifier(table)} to ${who}`);
      }
      return { role, created, tables: [...readings, offsets, resends], newlyGranted };
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
