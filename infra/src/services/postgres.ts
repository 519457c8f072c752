import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { LOCAL_STACK } from "@weather/service-kit";
import postgres from "postgres";
import { bringUp, logFileOf, observeService, type ServiceStatus, type StackContext } from "../context.ts";
import { startDaemon } from "../daemon.ts";
import type { StackPaths } from "../paths.ts";
import { StackError } from "../stack-error.ts";
import {
  asServiceUser,
  bundledBinDir,
  holdsClusterInPlace,
  initCluster,
  serviceDataDir,
} from "./postgres-runtime.ts";

export const POSTGRES = "postgres";

/** The server's maintenance database: always there, whatever the product's database is called. */
function adminUrl(serverUrl: URL): string {
  const url = new URL(serverUrl);
  url.pathname = "/postgres";
  return url.toString();
}

export function postgresAddress(serverUrl: URL): string {
  return `${serverUrl.hostname}:${serverUrl.port || "5432"}`;
}

/**
 * Runs `work` on one connection of its own to the server, closed afterwards whatever happens: the
 * stack's short conversations with PostgreSQL (probes, set-up, failover) hold nothing open.
 */
export async function withPostgres<T>(
  server: string | postgres.Options<Record<string, never>>,
  work: (sql: postgres.Sql) => Promise<T>,
  timeouts: { connect?: number; idle?: number } = {},
): Promise<T> {
  const options = {
    max: 1,
    connect_timeout: timeouts.connect ?? 3,
    idle_timeout: timeouts.idle ?? 1,
    onnotice: () => {},
  };
  const sql = typeof server === "string" ? postgres(server, options) : postgres({ ...server, ...options });
  try {
    return await work(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** true when the query answers, otherwise why not. */
export async function answers(query: () => Promise<unknown>): Promise<string | true> {
  try {
    await query();
    return true;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Runs one query against the server; true when it answers, otherwise why not. */
export function probePostgres(serverUrl: URL): Promise<string | true> {
  return answers(() => withPostgres(adminUrl(serverUrl), (sql) => sql`select 1`));
}

/** Creates the database unless it exists; PostgreSQL has no CREATE DATABASE IF NOT EXISTS. */
export async function ensureDatabase(serverUrl: URL, database: string): Promise<void> {
  try {
    await withPostgres(
      adminUrl(serverUrl),
      async (sql) => {
        const [existing] = await sql`select 1 from pg_database where datname = ${database}`;
        if (!existing) await sql`create database ${sql(database)}`;
      },
      { connect: 5 },
    );
  } catch (error) {
    // Another process may have created it between the check and the create.
    if ((error as { code?: string }).code !== "42P04") {
      throw new StackError(POSTGRES, `cannot create database "${database}": ${(error as Error).message}`);
    }
  }
}

function isLocalHost(hostname: string): boolean {
  return ["127.0.0.1", "localhost", "::1", "[::1]"].includes(hostname);
}

export interface BundledPostgres {
  readonly initdb: string;
  readonly postgres: string;
  /** The cluster's data directory (a real path; .stack/data/postgres links here as root). */
  readonly dataDir: string;
}

/** Where the bundled server's binaries and data live for this stack (see SERVICE_ROOT). */
export async function bundledPostgres(paths: StackPaths): Promise<BundledPostgres> {
  const binDir = await bundledBinDir();
  const binaries = { initdb: join(binDir, "initdb"), postgres: join(binDir, "postgres") };
  // A cluster an earlier version of the stack made in place keeps working where it is.
  if (holdsClusterInPlace(paths, POSTGRES)) return { ...binaries, dataDir: join(paths.data, POSTGRES) };
  return { ...binaries, dataDir: serviceDataDir(paths, POSTGRES, "data") };
}

async function startEmbedded(context: StackContext): Promise<number> {
  const bundled = await bundledPostgres(context.paths);
  const { dataDir } = bundled;
  const logFile = logFileOf(context.paths, POSTGRES);
  const port = context.postgresUrl.port || "5432";
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    context.log(`postgres: initialising a bundled server in ${dataDir}`);
    initCluster({ service: POSTGRES, initdb: bundled.initdb, dataDir, logFile });
  }
  const run = asServiceUser(bundled.postgres, [
    "-D",
    dataDir,
    "-p",
    port,
    "-c",
    `listen_addresses=${context.postgresUrl.hostname.replace(/^\[|\]$/g, "")}`,
    // No socket: the machine's own server may own the default socket directory.
    "-c",
    "unix_socket_directories=",
  ]);
  return startDaemon(context.paths.run, {
    name: POSTGRES,
    command: run.command,
    args: run.args,
    // A folder the service user may enter, whatever the checkout's parents allow.
    cwd: dirname(dataDir),
    logFile,
    marker: dataDir,
  });
}

/**
 * Uses the server at DATABASE_URL when one answers; otherwise, on this machine only, starts the
 * bundled one. Then makes sure the registry's own database exists.
 */
export async function postgresUp(context: StackContext): Promise<ServiceStatus> {
  const address = postgresAddress(context.postgresUrl);
  const probe = () => probePostgres(context.postgresUrl);
  const state = await bringUp({
    name: POSTGRES,
    paths: context.paths,
    probe,
    start: async () => {
      if (!isLocalHost(context.postgresUrl.hostname)) {
        throw new StackError(
          POSTGRES,
          `no PostgreSQL answers at ${address}: ${await probe()}`,
          undefined,
          "DATABASE_URL points at another host, so the stack will not start a server for it; check that one is up there",
        );
      }
      context.log(`postgres: nothing answers at ${address}; starting the bundled PostgreSQL`);
      return startEmbedded(context);
    },
    readyWithinMs: 60_000,
    log: context.log,
  });
  await ensureDatabase(context.postgresUrl, LOCAL_STACK.registryDatabase);
  return { name: POSTGRES, address, state, logFile: logFileOf(context.paths, POSTGRES) };
}

export function postgresStatus(context: StackContext): Promise<ServiceStatus> {
  return observeService({
    name: POSTGRES,
    address: postgresAddress(context.postgresUrl),
    paths: context.paths,
    probe: () => probePostgres(context.postgresUrl),
  });
}
