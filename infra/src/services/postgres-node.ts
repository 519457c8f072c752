import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type postgres from "postgres";
import { logFileOf, STACK_HOST, type StackContext } from "../context.ts";
import { daemonState, startDaemon, stopDaemon, tailOf } from "../daemon.ts";
import { StackError } from "../stack-error.ts";
import { answers, withPostgres } from "./postgres.ts";
import {
  nodeDataDir,
  type PairNode,
  type PostgresPairLayout,
  type StandbyMode,
} from "./postgres-pair-layout.ts";
import { asServiceUser, binaryIn, chownToServiceUser, type PostgresBinaries } from "./postgres-runtime.ts";

/**
 * One node of the pair as a process: started as a primary or as a standby of the other, stopped,
 * fenced, and asked what it is. Every setting is given on the command line, never in the data
 * folder's configuration files, because a base backup and pg_rewind copy those from the other node.
 * Only synchronous_standby_names lives in postgresql.auto.conf (ALTER SYSTEM), as it changes while
 * the primary runs.
 */
export const PAIR_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  listen_addresses: STACK_HOST,
  // No socket: the machine's own server may own the default socket directory.
  unix_socket_directories: "",
  wal_level: "replica",
  hot_standby: "on",
  // pg_rewind needs every page change in the WAL, hint bits included (or data checksums).
  wal_log_hints: "on",
  max_wal_senders: "10",
  max_replication_slots: "10",
  // Slots keep what the standby still needs; this keeps what a rewind after a failover may need.
  wal_keep_size: "512MB",
  // Readers on the standby (the dashboard) do not get their queries cancelled by vacuum's cleanup.
  hot_standby_feedback: "on",
  // The standby reports its positions every second, so the lag `status` shows is fresh.
  wal_receiver_status_interval: "1s",
});

export function settingArgs(settings: Readonly<Record<string, string>>): string[] {
  return Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`]);
}

/** libpq's connection string to a node, for replication, pg_rewind and pg_basebackup. */
export function conninfo(node: PairNode, applicationName?: string): string {
  return [
    `host=${STACK_HOST}`,
    `port=${node.port}`,
    "user=postgres",
    "dbname=postgres",
    "connect_timeout=3",
    ...(applicationName ? [`application_name=${applicationName}`] : []),
  ].join(" ");
}

export type NodeRole = { readonly as: "primary" } | { readonly as: "standby"; readonly of: PairNode };

/**
 * Starts the node's server (its data must exist) in the given role: a standby gets standby.signal
 * and streams from the primary through its own slot, under its name (synchronous_standby_names
 * refers to it by that name).
 */
export function startNode(
  context: StackContext,
  layout: PostgresPairLayout,
  binaries: PostgresBinaries,
  node: PairNode,
  role: NodeRole,
): number {
  const dataDir = nodeDataDir(layout, node);
  // Left by a server that was killed; it is not running (the stack checked its pid), so it is stale.
  rmSync(join(dataDir, "postmaster.pid"), { force: true });
  const standbySignal = join(dataDir, "standby.signal");
  if (role.as === "standby") {
    writeFileSync(standbySignal, "");
    chownToServiceUser(standbySignal);
  } else rmSync(standbySignal, { force: true });
  const settings = {
    ...PAIR_SETTINGS,
    cluster_name: node.name,
    ...(role.as === "standby"
      ? { primary_conninfo: conninfo(role.of, node.name), primary_slot_name: node.slot }
      : {}),
  };
  const run = asServiceUser(binaryIn(binaries, "postgres"), [
    "-D",
    dataDir,
    "-p",
    String(node.port),
    ...settingArgs(settings),
  ]);
  return startDaemon(context.paths.run, {
    name: node.name,
    command: run.command,
    args: run.args,
    cwd: layout.root,
    logFile: logFileOf(context.paths, node.name),
    marker: dataDir,
  });
}

/** Stops the node with a fast shutdown (SIGINT: clients cut off, a clean shutdown checkpoint). */
export function stopNode(context: StackContext, node: PairNode): Promise<boolean> {
  return stopDaemon(context.paths.run, node.name, 30_000, { signal: "SIGINT", killGroup: true });
}

/**
 * Fences the node as a failover manager must before promoting the other: an immediate shutdown
 * (SIGQUIT: no checkpoint, every backend gone at once), and if it does not go within 5 s (a hung
 * or SIGSTOPped server) SIGKILL to its whole process group. Afterwards it accepts no write.
 */
export function fenceNode(context: StackContext, node: PairNode): Promise<boolean> {
  return stopDaemon(context.paths.run, node.name, 5_000, { signal: "SIGQUIT", killGroup: true });
}

/** One conversation with the node, as the superuser, in the maintenance database. */
export function onNode<T>(
  node: PairNode,
  work: (sql: postgres.Sql) => Promise<T>,
  timeouts: { connect?: number; idle?: number } = {},
): Promise<T> {
  return withPostgres(
    { host: STACK_HOST, port: node.port, user: "postgres", database: "postgres" },
    work,
    timeouts,
  );
}

export function probeNode(node: PairNode): () => Promise<string | true> {
  return () => answers(() => onNode(node, (sql) => sql`select 1`));
}

/** Whether the server is in recovery (a standby), or undefined when it does not answer. */
export async function inRecovery(node: PairNode): Promise<boolean | undefined> {
  try {
    return await onNode(node, async (sql) => {
      const [row] = await sql<{ recovery: boolean }[]>`select pg_is_in_recovery() as recovery`;
      return row?.recovery;
    });
  } catch {
    return undefined;
  }
}

/**
 * Makes sure the primary keeps a physical slot for `standby`, reserving WAL from now on; `fresh`
 * drops an older one first (before a new copy of the data, whose WAL starts now). A slot is still
 * busy for a moment after its standby went away, so dropping it is retried.
 */
export async function ensureSlot(primary: PairNode, standby: PairNode, fresh: boolean): Promise<void> {
  await onNode(primary, async (sql) => {
    const [existing] = await sql`select 1 from pg_replication_slots where slot_name = ${standby.slot}`;
    if (existing && !fresh) return;
    if (existing) {
      for (let attempt = 1; ; attempt++) {
        try {
          await sql`select pg_drop_replication_slot(${standby.slot})`;
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== "55006" || attempt >= 50) throw error;
          await sleep(200);
        }
      }
    }
    await sql`select pg_create_physical_replication_slot(${standby.slot}, true)`;
  });
}

/** How the standby follows, as the primary sees it (else as the standby itself does). */
export interface StandbyReplication {
  /** pg_stat_replication's state (streaming, catchup, ...), or "not connected". */
  readonly state: string;
  /** Whether the primary waits for this standby at each commit now (sync_state = sync). */
  readonly synchronous: boolean;
  /** WAL the primary has written and the standby has not replayed yet. */
  readonly lagBytes: number | undefined;
  /** The standby's last measured replay lag (NULL once idle and caught up: 0). */
  readonly lagSeconds: number | undefined;
  readonly replayPaused: boolean | undefined;
}

export async function standbyReplication(primary: PairNode, standby: PairNode): Promise<StandbyReplication> {
  const fromPrimary = await onNode(primary, async (sql) => {
    const [row] = await sql<
      { state: string; sync_state: string; lag_bytes: number | null; lag_seconds: number }[]
    >`
      select state, sync_state,
             pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 as lag_bytes,
             coalesce(extract(epoch from replay_lag), 0)::float8 as lag_seconds
        from pg_stat_replication where application_name = ${standby.name}`;
    return row;
  }).catch(() => undefined);
  const paused = await onNode(standby, async (sql) => {
    const [row] = await sql<{ paused: boolean; unreplayed: number | null }[]>`
      select pg_is_wal_replay_paused() as paused,
             pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8 as unreplayed`;
    return row;
  }).catch(() => undefined);
  return {
    state: fromPrimary?.state ?? "not connected",
    synchronous: fromPrimary?.sync_state === "sync",
    lagBytes: fromPrimary ? (fromPrimary.lag_bytes ?? undefined) : (paused?.unreplayed ?? undefined),
    lagSeconds: fromPrimary?.lag_seconds,
    replayPaused: paused?.paused,
  };
}

/**
 * Waits until the primary streams to the standby, failing early when the standby's server died
 * (a copy it cannot recover from, WAL the primary no longer has); the error carries its log's tail.
 */
export async function waitStreaming(
  context: StackContext,
  primary: PairNode,
  standby: PairNode,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const logFile = logFileOf(context.paths, standby.name);
  for (;;) {
    const replication = await standbyReplication(primary, standby);
    if (replication.state === "streaming") return;
    if (daemonState(context.paths.run, standby.name).kind !== "running")
      throw new StackError(standby.name, `the standby's server exited:\n${tailOf(logFile)}`, logFile);
    if (Date.now() > deadline) {
      throw new StackError(
        standby.name,
        `not streaming from ${primary.name} after ${Math.round(timeoutMs / 1000)} s (${replication.state}):\n${tailOf(logFile)}`,
        logFile,
      );
    }
    await sleep(200);
  }
}

/**
 * Sets the primary's synchronous_standby_names: the standby's name in sync mode while it streams,
 * empty otherwise. Without a standby a sync primary would hold every commit until one came back;
 * like Patroni's synchronous_mode (not _strict), the stack keeps writes going instead.
 */
export async function applyMode(
  primary: PairNode,
  standby: PairNode,
  mode: StandbyMode,
  streaming: boolean,
): Promise<void> {
  const synchronous = mode === "sync" && streaming;
  await onNode(primary, async (sql) => {
    await sql.unsafe(
      synchronous
        ? `alter system set synchronous_standby_names = '"${standby.name}"'`
        : "alter system reset synchronous_standby_names",
    );
    await sql`select pg_reload_conf()`;
  });
  if (!synchronous) return;
  // The reload takes effect a moment later; status right after `up` should already say "sync".
  const deadline = Date.now() + 10_000;
  while (!(await standbyReplication(primary, standby)).synchronous && Date.now() < deadline) await sleep(100);
}

/** Waits until the node accepts writes: a transaction that takes a transaction id and commits. */
export async function waitWritable(node: PairNode, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reason = "";
  while (Date.now() < deadline) {
    const answer = await answers(() => onNode(node, (sql) => sql`select txid_current()`));
    if (answer === true) return;
    reason = answer;
    await sleep(100);
  }
  throw new StackError(node.name, `does not accept writes after ${timeoutMs / 1000} s: ${reason}`);
}

/**
 * Runs one of PostgreSQL's programs as the service user and appends what it prints to the node's
 * log (the record of what was done to its data); resolves with its exit code and output.
 */
export function runTool(
  context: StackContext,
  layout: PostgresPairLayout,
  node: PairNode,
  command: string,
  args: readonly string[],
): Promise<{ code: number | null; output: string }> {
  const logFile = logFileOf(context.paths, node.name);
  mkdirSync(context.paths.logs, { recursive: true });
  appendFileSync(logFile, `[stack] ${new Date().toISOString()} ${command} ${args.join(" ")}\n`);
  const run = asServiceUser(command, args);
  return new Promise((resolve) => {
    const child = spawn(run.command, run.args, { cwd: layout.root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", (error) => resolve({ code: null, output: error.message }));
    child.on("close", (code) => {
      appendFileSync(logFile, output);
      resolve({ code, output: output.trim() });
    });
  });
}

export function hasData(layout: PostgresPairLayout, node: PairNode): boolean {
  return existsSync(join(nodeDataDir(layout, node), "PG_VERSION"));
}
