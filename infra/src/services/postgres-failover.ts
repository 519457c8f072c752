import type { StackContext } from "../context.ts";
import { daemonState } from "../daemon.ts";
import { StackConflict, StackError } from "../stack-error.ts";
import { baseBackup, rewind } from "./postgres-clone.ts";
import {
  applyMode,
  ensureSlot,
  fenceNode,
  hasData,
  inRecovery,
  onNode,
  stopNode,
  waitStreaming,
  waitWritable,
} from "./postgres-node.ts";
import { pairOf, recordedBinaries, requireRecord, startStandby, twoPrimaries } from "./postgres-pair.ts";
import {
  nodeNamed,
  otherNode,
  type PairNodeName,
  POSTGRES_PAIR,
  writePairRecord,
} from "./postgres-pair-layout.ts";

/**
 * What a failover manager (Patroni, CloudNativePG's instance manager, a managed service's
 * control plane) does when the primary is lost, done by hand: fence the old primary so it can
 * accept no write, promote the standby, and see it commit. Then `rejoin` turns the old primary
 * into the new one's standby, so the pair can fail over again, back the other way.
 */
export interface FailoverResult {
  readonly promoted: PairNodeName;
  readonly fenced: PairNodeName;
  /** Whether the old primary's server still ran and had to be stopped (false: it had died already). */
  readonly fencedRunning: boolean;
  /** From the start of the failover to the new primary's first commit. */
  readonly tookMs: number;
  /** From pg_promote() to the new primary's first commit. */
  readonly promotionMs: number;
}

export async function failover(context: StackContext): Promise<FailoverResult> {
  const layout = pairOf(context);
  const record = requireRecord(layout);
  const oldPrimary = nodeNamed(layout, record.primary);
  const standby = otherNode(layout, record.primary);
  if (record.fenced === standby.name) {
    throw new StackConflict(
      POSTGRES_PAIR,
      `no standby to promote: ${standby.name} is the old primary an earlier failover fenced; run: pnpm stack rejoin`,
    );
  }
  if (daemonState(context.paths.run, standby.name).kind !== "running") {
    throw new StackConflict(
      standby.name,
      `no standby running to promote (${standby.name} is stopped); start it: pnpm stack up --postgres-standby ${record.mode}`,
    );
  }
  if ((await inRecovery(standby)) !== true) {
    throw new StackConflict(
      standby.name,
      "is not a standby in recovery (it does not answer, or accepts writes already); see: pnpm stack status",
    );
  }

  const started = performance.now();
  // Recorded first: whatever happens next, the old primary is never started as a primary again.
  writePairRecord(layout.root, { ...record, fenced: oldPrimary.name });
  const fencedRunning = await fenceNode(context, oldPrimary);
  context.log(
    `${oldPrimary.name}: fenced (${fencedRunning ? "stopped in immediate mode" : "it was not running"})`,
  );

  const promoting = performance.now();
  const [promoted] = await onNode(
    standby,
    (sql) => sql<{ done: boolean }[]>`select pg_promote(true, 60) as done`,
  );
  if (!promoted?.done) throw new StackError(standby.name, "pg_promote() did not finish within 60 s");
  // A list of synchronous standbys copied from the old primary would hold every commit: none waits now.
  await applyMode(standby, oldPrimary, record.mode, false);
  await waitWritable(standby);
  const done = performance.now();
  writePairRecord(layout.root, { ...record, primary: standby.name, fenced: oldPrimary.name });
  // From here on the new primary keeps its WAL for the old one's rejoin (pg_rewind replays it).
  await ensureSlot(standby, oldPrimary, true);
  return {
    promoted: standby.name,
    fenced: oldPrimary.name,
    fencedRunning,
    tookMs: done - started,
    promotionMs: done - promoting,
  };
}

export interface RejoinResult {
  /** The node that is the standby now. */
  readonly node: PairNodeName;
  readonly primary: PairNodeName;
  /** How it got the primary's data: only the changes (pg_rewind), a whole copy, or nothing to do. */
  readonly method: "pg_rewind" | "base backup" | "none";
  readonly tookMs: number;
}

/**
 * Makes the node that is not the primary (the fenced old primary, or a standby that is down) the
 * primary's standby again: pg_rewind where the binaries have it, else (or if the rewound copy
 * cannot follow) a fresh base backup; then it streams, and in sync mode the primary waits for it.
 */
export async function rejoin(context: StackContext): Promise<RejoinResult> {
  const layout = pairOf(context);
  const record = requireRecord(layout);
  const primary = nodeNamed(layout, record.primary);
  const target = otherNode(layout, record.primary);
  if (record.fenced === primary.name) {
    throw new StackConflict(
      primary.name,
      "was fenced by a failover that did not finish, and is still recorded as the primary; run: pnpm stack failover",
    );
  }
  const primaryRuns = daemonState(context.paths.run, primary.name).kind === "running";
  if (!primaryRuns || (await inRecovery(primary)) !== false) {
    throw new StackConflict(
      primary.name,
      `the primary is not running, so nothing can rejoin it; start it: pnpm stack up --postgres-standby ${record.mode}`,
    );
  }
  const started = performance.now();
  const result = (method: RejoinResult["method"]): RejoinResult => ({
    node: target.name,
    primary: primary.name,
    method,
    tookMs: performance.now() - started,
  });
  if (daemonState(context.paths.run, target.name).kind === "running") {
    if ((await inRecovery(target)) === false) throw twoPrimaries(primary, target);
    if (record.fenced !== target.name) {
      await waitStreaming(context, primary, target);
      return result("none");
    }
    await stopNode(context, target);
  }

  const binaries = recordedBinaries(record);
  const step = { context, layout, binaries, source: primary, target };
  let method: RejoinResult["method"] = "base backup";
  if (hasData(layout, target)) {
    const rewound = await rewind(step);
    if (rewound === true) method = "pg_rewind";
    else context.log(`${target.name}: ${rewound}; taking a fresh base backup instead`);
  }
  if (method === "base backup") await baseBackup(step);
  try {
    await startStandby(context, layout, binaries, primary, target);
  } catch (error) {
    if (method !== "pg_rewind") throw error;
    // The rewound copy may need WAL the primary no longer has: a whole copy needs none of it.
    context.log(
      `${target.name}: cannot follow after pg_rewind (${(error as Error).message.split("\n")[0]}); taking a fresh base backup`,
    );
    await stopNode(context, target);
    await baseBackup(step);
    await startStandby(context, layout, binaries, primary, target);
    method = "base backup";
  }
  await applyMode(primary, target, record.mode, true);
  writePairRecord(layout.root, { ...record, fenced: null });
  return result(method);
}
