import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { StackContext } from "../context.ts";
import { StackError } from "../stack-error.ts";
import { conninfo, ensureSlot, onNode, PAIR_SETTINGS, runTool, settingArgs } from "./postgres-node.ts";
import { nodeDataDir, type PairNode, type PostgresPairLayout } from "./postgres-pair-layout.ts";
import { asServiceUser, binaryIn, chownToServiceUser, type PostgresBinaries } from "./postgres-runtime.ts";

/**
 * The two ways a node gets the primary's data: a fresh base backup (pg_basebackup, or where the
 * bundled build has none, the low-level backup functions and a file copy), or pg_rewind, which
 * copies only what changed since the two servers' histories forked (the old primary's writes the
 * standby never received are thrown away: the new primary's history wins).
 */
interface PairStep {
  readonly context: StackContext;
  readonly layout: PostgresPairLayout;
  readonly binaries: PostgresBinaries;
  /** The primary, whose data is copied. */
  readonly source: PairNode;
  /** The node that becomes its standby; its server is not running. */
  readonly target: PairNode;
}

/** What pg_basebackup leaves out (src/backend/backup/basebackup.c): runtime state, not data. */
const SKIPPED_CONTENTS = new Set([
  "pg_wal",
  "pg_replslot",
  "pg_dynshmem",
  "pg_notify",
  "pg_serial",
  "pg_snapshots",
  "pg_stat_tmp",
  "pg_subtrans",
]);
const SKIPPED_FILES = new Set([
  "postmaster.pid",
  "postmaster.opts",
  "backup_label",
  "tablespace_map",
  "standby.signal",
  "recovery.signal",
  "pg_internal.init",
  "current_logfiles.tmp",
  "postgresql.auto.conf.tmp",
]);

/**
 * Copies a running server's data folder, as pg_basebackup would: the folders whose contents are
 * runtime state are copied empty (pg_wal keeps its subfolders, empty too), temporary files are
 * left out, and a file that vanishes while being copied (a temporary one, a dropped table) is
 * simply not there.
 */
function copyDataDir(from: string, to: string, contents: "all" | "none" | "folders" = "all"): void {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  if (contents === "none") return;
  for (const entry of readdirSync(from)) {
    if (SKIPPED_FILES.has(entry) || entry.startsWith("pgsql_tmp")) continue;
    const source = join(from, entry);
    const target = join(to, entry);
    try {
      const stat = lstatSync(source);
      if (stat.isDirectory()) {
        const inner =
          contents === "folders"
            ? "none"
            : SKIPPED_CONTENTS.has(entry)
              ? entry === "pg_wal"
                ? "folders"
                : "none"
              : "all";
        copyDataDir(source, target, inner);
      } else if (contents === "folders") continue;
      else if (stat.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
      else copyFileSync(source, target);
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") throw error;
    }
  }
}

/**
 * A base backup without pg_basebackup: pg_backup_start on one session, a copy of the files, then
 * pg_backup_stop on the same session, whose label file makes the copy start its recovery at the
 * backup's checkpoint. The WAL from there on streams from the primary, through the slot made first.
 */
async function lowLevelBackup(step: PairStep): Promise<void> {
  const { layout, source, target } = step;
  const from = nodeDataDir(layout, source);
  const to = nodeDataDir(layout, target);
  const label = `stack ${target.name} from ${source.name}`;
  const stopped = await onNode(
    source,
    async (sql) => {
      const [server] = await sql<
        { version: number }[]
      >`select current_setting('server_version_num')::int as version`;
      // PostgreSQL 15 renamed the functions and dropped the exclusive mode.
      const modern = (server?.version ?? 0) >= 150_000;
      if (modern) await sql`select pg_backup_start(${label}, true)`;
      else await sql`select pg_start_backup(${label}, true, false)`;
      copyDataDir(from, to);
      const [result] = modern
        ? await sql<{ labelfile: string; spcmapfile: string | null }[]>`
            select labelfile, spcmapfile from pg_backup_stop(false)`
        : await sql<{ labelfile: string; spcmapfile: string | null }[]>`
            select labelfile, spcmapfile from pg_stop_backup(false, false)`;
      return result;
    },
    // The session must outlive the copy: the backup ends with it.
    { idle: 0 },
  );
  if (!stopped) throw new StackError(target.name, "pg_backup_stop returned nothing");
  writeFileSync(join(to, "backup_label"), stopped.labelfile);
  if (stopped.spcmapfile) writeFileSync(join(to, "tablespace_map"), stopped.spcmapfile);
  chownToServiceUser(to, { recursive: true });
}

/** Replaces the target's data with a fresh copy of the source's, and a slot that keeps its WAL. */
export async function baseBackup(step: PairStep): Promise<void> {
  const { layout, source, target } = step;
  const to = nodeDataDir(layout, target);
  await ensureSlot(source, target, true);
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { mode: 0o700 });
  chownToServiceUser(to);
  try {
    await copyInto(step, to);
  } catch (error) {
    // Half a copy is no standby: the next `up` or `rejoin` starts from nothing again.
    rmSync(to, { recursive: true, force: true });
    throw error;
  }
}

async function copyInto(step: PairStep, to: string): Promise<void> {
  const { context, layout, binaries, source, target } = step;
  if (!binaries.has.pg_basebackup) {
    context.log(
      `${target.name}: copying ${source.name}'s data (low-level backup; no pg_basebackup in ${binaries.dir})`,
    );
    await lowLevelBackup(step);
    return;
  }
  context.log(`${target.name}: copying ${source.name}'s data (pg_basebackup)`);
  const result = await runTool(context, layout, target, binaryIn(binaries, "pg_basebackup"), [
    "-D",
    to,
    "-d",
    conninfo(source),
    "-X",
    "stream",
    "-S",
    target.slot,
    "--checkpoint=fast",
    "-w",
  ]);
  if (result.code !== 0)
    throw new StackError(target.name, `pg_basebackup from ${source.name} failed: ${result.output}`);
}

/** pg_controldata's "Database cluster state", e.g. "shut down", "in production". */
function clusterState(binaries: PostgresBinaries, dataDir: string): string | undefined {
  const run = asServiceUser(binaryIn(binaries, "pg_controldata"), ["-D", dataDir]);
  const result = spawnSync(run.command, run.args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  return /^Database cluster state:\s+(.+)$/m.exec(result.stdout ?? "")?.[1]?.trim();
}

/**
 * pg_rewind wants a target that was shut down cleanly; a fenced primary was stopped in immediate
 * mode (or killed), so it first replays its own WAL once, in single-user mode (no connections, a
 * shutdown checkpoint at the end), with the pair's settings so wal_log_hints stays on.
 */
async function recoverFromCrash(step: PairStep): Promise<void> {
  const { context, layout, binaries, target } = step;
  const dataDir = nodeDataDir(layout, target);
  const state = binaries.has.pg_controldata ? clusterState(binaries, dataDir) : undefined;
  if (state === "shut down" || state === "shut down in recovery") return;
  context.log(
    `${target.name}: not shut down cleanly (${state ?? "state unknown"}); running crash recovery first`,
  );
  rmSync(join(dataDir, "postmaster.pid"), { force: true });
  const result = await runTool(context, layout, target, binaryIn(binaries, "postgres"), [
    "--single",
    "-D",
    dataDir,
    ...settingArgs(PAIR_SETTINGS),
    "postgres",
  ]);
  if (result.code !== 0)
    throw new StackError(target.name, `crash recovery in single-user mode failed: ${result.output}`);
}

/**
 * Rewinds the target (the old primary) onto the source's history. Returns why it could not, so
 * the caller can fall back to a fresh base backup; a slot for the target is made first.
 */
export async function rewind(step: PairStep): Promise<true | string> {
  const { context, layout, binaries, source, target } = step;
  if (!binaries.has.pg_rewind) return `no pg_rewind in ${binaries.dir}`;
  // The slot the failover made keeps the new history's WAL since the promotion: keep it.
  await ensureSlot(source, target, false);
  await recoverFromCrash(step);
  // pg_rewind reads the source's timeline from its control file, which a just promoted server
  // updates only at the end of its first checkpoint; before that it sees "no rewind required".
  await onNode(source, (sql) => sql`checkpoint`);
  context.log(`${target.name}: rewinding onto ${source.name}'s history (pg_rewind)`);
  const result = await runTool(context, layout, target, binaryIn(binaries, "pg_rewind"), [
    `--target-pgdata=${nodeDataDir(layout, target)}`,
    `--source-server=${conninfo(source)}`,
  ]);
  if (result.code !== 0) return `pg_rewind failed: ${result.output.split("\n").slice(-3).join(" ")}`;
  // The old primary's slots (the one for its standby) are not the new standby's to keep.
  const slots = join(nodeDataDir(layout, target), "pg_replslot");
  for (const slot of readdirSync(slots)) rmSync(join(slots, slot), { recursive: true, force: true });
  return true;
}
