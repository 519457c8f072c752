import { getTableName } from "drizzle-orm";
import type { Sql } from "postgres";
import { type ConnectOptions, connectOnce, databaseNameOf } from "./connect.ts";
import { withSchemaLock } from "./migrate.ts";
import { consumerOffsets, weatherReadings } from "./tables.ts";

export interface SinkRoleResult {
  readonly role: string;
  readonly created: boolean;
  /** Tables the role may use: the readings parent, its partitions, the offsets table. */
  readonly tables: readonly string[];
  /** Those of them it could not use before this call (all of them in a fresh database). */
  readonly newlyGranted: readonly string[];
}

export interface SinkRoleOptions {
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

/**
 * The sink's least privilege: it may read and add readings (the partitioned parent, through which
 * it inserts, and every city partition, for readers that go to them directly), read, add and
 * update its offsets, and create temporary tables (its staging table for duplicates); nothing else. No DELETE, no TRUNCATE, no DDL: CREATE on the schema is revoked
 * from PUBLIC (PostgreSQL 15+ already does so), and the role owns nothing. Roles belong to the
 * server, grants to this database; run after every partition change (bootstrap does, each run).
 */
export async function ensureSinkRole(
  databaseUrl: string,
  options: SinkRoleOptions,
  connect: ConnectOptions = {},
): Promise<SinkRoleResult> {
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
      const partitions = await sql<{ name: string }[]>`
        select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = to_regclass(${quoteIdentifier(parent)}) order by 1`;
      const readings = [parent, ...partitions.map((p) => p.name)];
      const who = quoteIdentifier(role);
      const newlyGranted: string[] = [];
      for (const [table, privileges] of [
        ...readings.map((t) => [t, ["select", "insert"]] as const),
        [offsets, ["select", "insert", "update"]] as const,
      ]) {
        const [row] = await sql<{ ok: boolean }[]>`
          select bool_and(has_table_privilege(${role}::name, ${quoteIdentifier(table)}::text, p)) as ok
          from unnest(${[...privileges]}::text[]) as p`;
        if (!row?.ok) newlyGranted.push(table);
      }
      // TEMPORARY: a chunk holding readings already stored goes through a temporary staging table
      // (pg-sink's write-batch.ts). PUBLIC has it by default; granted by name, it survives a server
      // that revokes it from PUBLIC. A temporary table is the session's own and dropped at commit.
      await retryConcurrentUpdate(() =>
        sql.unsafe(
          `grant connect, temporary on database ${quoteIdentifier(databaseNameOf(databaseUrl))} to ${who}`,
        ),
      );
      await sql.unsafe("revoke create on schema public from public");
      await sql.unsafe(`grant usage on schema public to ${who}`);
      for (const table of readings) {
        await sql.unsafe(`revoke all on table ${quoteIdentifier(table)} from ${who}`);
        await sql.unsafe(`grant select, insert on table ${quoteIdentifier(table)} to ${who}`);
      }
      await sql.unsafe(`revoke all on table ${quoteIdentifier(offsets)} from ${who}`);
      await sql.unsafe(`grant select, insert, update on table ${quoteIdentifier(offsets)} to ${who}`);
      return { role, created, tables: [...readings, offsets], newlyGranted };
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
