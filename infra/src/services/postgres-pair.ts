import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  bringUp,
  logFileOf,
  observeService,
  type ServiceState,
  type ServiceStatus,
  type StackContext,
  waitUntilReady,
} from "../context.ts";
import { daemonState, recordedDaemons } from "../daemon.ts";
import { describeHolder, portHolder } from "../ports.ts";
import { StackConflict, StackError } from "../stack-error.ts";
import { baseBackup } from "./postgres-clone.ts";
import {
  applyMode,
  ensureSlot,
  hasData,
  inRecovery,
  probeNode,
  type StandbyReplication,
  standbyReplication,
  startNode,
  stopNode,
  waitStreaming,
} from "./postgres-node.ts";
import {
  nodeDataDir,
  nodeNamed,
  otherNode,
  PAIR_NODE_NAMES,
  type PairNode,
  type PairRecord,
  POSTGRES_PAIR,
  type PostgresPairLayout,
  readPairRecord,
  readPostgresPair,
  type StandbyMode,
  writePairRecord,
} from "./postgres-pair-layout.ts";
import {
  binariesAt,
  binaryIn,
  bundledBinDir,
  initCluster,
  linkServiceData,
  machineBinaries,
  type PostgresBinaries,
} from "./postgres-runtime.ts";

/** Both nodes' pid files. */
const PAIR_DAEMONS = /^postgres-[12]$/;

/** The pair the context names, or the one the record (and default ports) describe. */
export function pairOf(context: StackContext): PostgresPairLayout {
  return context.postgresPair ?? readPostgresPair({}, context.paths);
}

export function requireRecord(layout: PostgresPairLayout): PairRecord {
  const record = readPairRecord(layout.root);
  if (!record) {
    throw new StackConflict(
      POSTGRES_PAIR,
      `this stack has no PostgreSQL primary and standby (nothing in ${layout.root}); start them: pnpm stack up --postgres-standby async`,
    );
  }
  return record;
}

async function bundledBinaries(): Promise<PostgresBinaries> {
  const dir = await bundledBinDir();
  const found = binariesAt(dir, "bundled");
  if (!found) throw new StackError(POSTGRES_PAIR, `the bundled PostgreSQL in ${dir} does not run`);
  return found;
}

/** STACK_POSTGRES_BINARIES ("bundled" or a folder), else the machine's packaged server, else the bundled one. */
async function chooseBinaries(layout: PostgresPairLayout): Promise<PostgresBinaries> {
  if (layout.binaries === "bundled") return bundledBinaries();
  if (layout.binaries !== undefined) {
    const found = binariesAt(layout.binaries, "machine");
    if (!found) {
      throw new StackError(
        POSTGRES_PAIR,
        `STACK_POSTGRES_BINARIES=${layout.binaries} holds no initdb and postgres that run; name a folder of PostgreSQL programs, or "bundled"`,
      );
    }
    return found;
  }
  return machineBinaries() ?? bundledBinaries();
}

/** The programs the pair's data was made with: a cluster only ever runs under its own major version. */
export function recordedBinaries(record: PairRecord): PostgresBinaries {
  const found = binariesAt(record.binDir, record.binSource);
  if (!found || found.major !== record.major) {
    throw new StackError(
      POSTGRES_PAIR,
      `the pair's data was made by PostgreSQL ${record.major} from ${record.binDir}, which is not there any more; reinstall it, or remove the pair (pnpm stack down, then delete the folder .stack/data/${POSTGRES_PAIR} points to) to start afresh`,
    );
  }
  return found;
}

/**
 * Which node is the primary now and which is (or, fenced, will be again) its standby, from the
 * record: what a test needs to SIGKILL the primary or pause the standby's replay.
 */
export function pairRoles(context: StackContext): {
  primary: PairNode;
  standby: PairNode;
  standbyFenced: boolean;
  mode: StandbyMode;
} {
  const layout = pairOf(context);
  const record = requireRecord(layout);
  const standby = otherNode(layout, record.primary);
  return {
    primary: nodeNamed(layout, record.primary),
    standby,
    standbyFenced: record.fenced === standby.name,
    mode: record.mode,
  };
}

/** Before anything starts: every port a node is about to take must be free, or say who holds it. */
async function assertPortsFree(context: StackContext, nodes: readonly PairNode[]): Promise<void> {
  for (const node of nodes) {
    if (daemonState(context.paths.run, node.name).kind === "running") continue;
    const holder = await portHolder(node.port);
    if (holder) {
      throw new StackConflict(
        node.name,
        `${describeHolder(holder)}; stop it, or give the pair two free ports: STACK_POSTGRES_PAIR_PORTS=<port>,<port>`,
      );
    }
  }
}

/** A node of ours running on ports other than the ones asked for cannot just be kept. */
function assertSamePorts(
  context: StackContext,
  layout: PostgresPairLayout,
  record: PairRecord | undefined,
): void {
  layout.nodes.forEach((node, index) => {
    const recorded = record?.ports[index];
    if (
      recorded !== undefined &&
      recorded !== node.port &&
      daemonState(context.paths.run, node.name).kind === "running"
    ) {
      throw new StackConflict(
        node.name,
        `runs on port ${recorded}, not on ${node.port} as STACK_POSTGRES_PAIR_PORTS asks; stop the pair first: pnpm stack down`,
      );
    }
  });
}

function createPair(
  context: StackContext,
  layout: PostgresPairLayout,
  binaries: PostgresBinaries,
  mode: StandbyMode,
): PairRecord {
  const [first] = layout.nodes;
  mkdirSync(layout.root, { recursive: true, mode: 0o755 });
  linkServiceData(context.paths, POSTGRES_PAIR, layout.root);
  const dataDir = nodeDataDir(layout, first);
  context.log(
    `${first.name}: initialising the pair's primary in ${dataDir} (PostgreSQL ${binaries.major}, ${binaries.source}: ${binaries.dir})`,
  );
  initCluster({
    service: first.name,
    initdb: binaryIn(binaries, "initdb"),
    dataDir,
    logFile: logFileOf(context.paths, first.name),
  });
  return {
    binDir: binaries.dir,
    binSource: binaries.source,
    major: binaries.major,
    primary: first.name,
    fenced: null,
    mode,
    ports: [layout.nodes[0].port, layout.nodes[1].port],
  };
}

/**
 * Starts `standby` (not running, its data in place) as the primary's standby, then waits until it
 * answers and streams. Its port must be free.
 */
export async function startStandby(
  context: StackContext,
  layout: PostgresPairLayout,
  binaries: PostgresBinaries,
  primary: PairNode,
  standby: PairNode,
): Promise<void> {
  await assertPortsFree(context, [standby]);
  startNode(context, layout, binaries, standby, { as: "standby", of: primary });
  await waitUntilReady({
    service: standby.name,
    paths: context.paths,
    probe: probeNode(standby),
    timeoutMs: 60_000,
    log: context.log,
  });
  await waitStreaming(context, primary, standby);
}

/**
 * `pnpm stack up --postgres-standby sync|async`: the primary (made with initdb the first time),
 * then the standby (a base backup of the primary the first time), streaming through its slot, and
 * synchronous_standby_names as the mode says. Idempotent: running nodes are kept, and the mode is
 * applied again. A node a failover fenced stays down until `rejoin`. Nothing happens unless the
 * layout has a mode (the flag, STACK_POSTGRES_STANDBY, or a pair that runs).
 */
export async function postgresPairUp(context: StackContext): Promise<PairNodeStatus[]> {
  const layout = pairOf(context);
  const { mode } = layout;
  if (mode === undefined) return [];
  let record = readPairRecord(layout.root);
  assertSamePorts(context, layout, record);
  const toStart = layout.nodes.filter((node) => record?.fenced !== node.name);
  await assertPortsFree(context, toStart);
  if (record && layout.binaries !== undefined && (await chooseBinaries(layout)).dir !== record.binDir)
    context.log(`${POSTGRES_PAIR}: keeps the programs its data was made with (${record.binDir})`);
  const binaries = record ? recordedBinaries(record) : await chooseBinaries(layout);
  record = { ...(record ?? createPair(context, layout, binaries, mode)), mode };
  record = { ...record, ports: [layout.nodes[0].port, layout.nodes[1].port] };
  writePairRecord(layout.root, record);
  if (record.fenced === record.primary) {
    throw new StackConflict(
      record.primary,
      "was fenced by a failover that did not finish, and is still recorded as the primary; run: pnpm stack failover",
    );
  }

  const primary = nodeNamed(layout, record.primary);
  const standby = otherNode(layout, record.primary);
  const states = new Map<string, ServiceState>();
  const bring = (node: PairNode, start: () => number) =>
    bringUp({
      name: node.name,
      paths: context.paths,
      probe: probeNode(node),
      start: async () => start(),
      readyWithinMs: 60_000,
      log: context.log,
    });
  states.set(
    primary.name,
    await bring(primary, () => startNode(context, layout, binaries, primary, { as: "primary" })),
  );
  if ((await inRecovery(primary)) !== false)
    throw new StackError(
      primary.name,
      "is recorded as the primary but does not accept writes; see pnpm stack status",
    );

  let streaming = false;
  if (record.fenced === standby.name) {
    context.log(
      `${standby.name}: fenced (the old primary); pnpm stack rejoin makes it ${primary.name}'s standby`,
    );
  } else {
    if (!hasData(layout, standby))
      await baseBackup({ context, layout, binaries, source: primary, target: standby });
    else await ensureSlot(primary, standby, false);
    const state = await bring(standby, () =>
      startNode(context, layout, binaries, standby, { as: "standby", of: primary }),
    );
    states.set(standby.name, state);
    if ((await inRecovery(standby)) === false) throw twoPrimaries(primary, standby);
    await waitStreaming(context, primary, standby);
    streaming = true;
  }
  await applyMode(primary, standby, mode, streaming);
  return postgresPairStatus(context, states);
}

export function twoPrimaries(recorded: PairNode, other: PairNode): StackConflict {
  return new StackConflict(
    POSTGRES_PAIR,
    `${other.name} runs as a primary beside ${recorded.name}, the recorded primary: both accept writes; stop it (pnpm stack down stops both), then run: pnpm stack rejoin`,
  );
}

/** A node of the pair as `status` reports it. */
export interface PairNodeStatus extends ServiceStatus {
  readonly node: PairNode;
  /** From the record: the primary, its standby, the old primary a failover fenced, or a node without data. */
  readonly role: "primary" | "standby" | "fenced" | "no data";
  readonly mode: StandbyMode | undefined;
  /** What the server itself says while it answers: true in recovery (a standby). */
  readonly inRecovery: boolean | undefined;
  /** The standby's replication (on the primary's row too), as the primary (else the standby) sees it. */
  readonly replication: StandbyReplication | undefined;
}

function bytes(count: number | undefined): string {
  if (count === undefined) return "? B";
  if (count < 1024) return `${Math.round(count)} B`;
  if (count < 1024 ** 2) return `${(count / 1024).toFixed(1)} kB`;
  return `${(count / 1024 ** 2).toFixed(1)} MB`;
}

function describeNode(status: Omit<PairNodeStatus, "detail">, other: PairNode): string {
  const { role, mode, replication } = status;
  const surprise =
    status.inRecovery === true && role === "primary"
      ? " BUT IT IS IN RECOVERY"
      : status.inRecovery === false && role !== "primary"
        ? " BUT IT ACCEPTS WRITES (two primaries)"
        : "";
  switch (role) {
    case "primary": {
      const standby =
        replication?.state !== "streaming"
          ? "no standby streaming"
          : replication.synchronous
            ? `each commit waits for ${other.name}`
            : `${other.name} follows asynchronously`;
      return `primary (${mode ?? "?"})${surprise}; ${standby}`;
    }
    case "fenced":
      return `fenced old primary; pnpm stack rejoin makes it the standby${surprise}`;
    case "no data":
      return "no data yet";
    case "standby": {
      if (!replication) return `standby of ${other.name}${surprise}`;
      const lag = `replay lag ${bytes(replication.lagBytes)}${replication.lagSeconds !== undefined ? ` / ${replication.lagSeconds.toFixed(1)} s` : ""}`;
      return [
        `standby of ${other.name}${surprise}`,
        replication.synchronous ? "sync" : "async",
        replication.state,
        lag,
        ...(replication.replayPaused ? ["replay paused"] : []),
      ].join(", ");
    }
  }
}

/**
 * Both nodes with their roles and the standby's replication, or nothing when the pair is neither
 * asked for (see PostgresPairLayout.mode) nor running. `states` replaces what was observed (`up`
 * reports "started now").
 */
export async function postgresPairStatus(
  context: StackContext,
  states: ReadonlyMap<string, ServiceState> = new Map(),
): Promise<PairNodeStatus[]> {
  const layout = pairOf(context);
  const record = readPairRecord(layout.root);
  // A pair nobody asked for and nothing of which runs is not part of the stack now (its data waits).
  if (layout.mode === undefined && recordedDaemons(context.paths.run, PAIR_DAEMONS).length === 0) return [];
  const primaryName = record?.primary ?? PAIR_NODE_NAMES[0];
  const primary = nodeNamed(layout, primaryName);
  const standby = otherNode(layout, primaryName);
  const replication =
    record?.fenced !== standby.name && daemonState(context.paths.run, standby.name).kind === "running"
      ? await standbyReplication(primary, standby)
      : undefined;
  return Promise.all(
    layout.nodes.map(async (node) => {
      const other = otherNode(layout, node.name);
      const observed = await observeService({
        name: node.name,
        address: node.address,
        paths: context.paths,
        probe: probeNode(node),
      });
      const answering = observed.state.kind === "running";
      const role: PairNodeStatus["role"] = !hasData(layout, node)
        ? "no data"
        : record?.fenced === node.name
          ? "fenced"
          : node.name === primaryName
            ? "primary"
            : "standby";
      const status = {
        ...observed,
        state: states.get(node.name) ?? observed.state,
        node,
        role,
        mode: record?.mode,
        inRecovery: answering ? await inRecovery(node) : undefined,
        replication: role === "primary" || role === "standby" ? replication : undefined,
      };
      return { ...status, detail: describeNode(status, other) };
    }),
  );
}

/**
 * Stops both nodes (fast shutdown), the primary first: its WAL senders hand the standby everything
 * up to the shutdown checkpoint. The data and the roles stay for the next `up`.
 */
export async function postgresPairDown(
  context: StackContext,
): Promise<{ service: string; stopped: boolean }[]> {
  const layout = pairOf(context);
  const record = readPairRecord(layout.root);
  if (!record && recordedDaemons(context.paths.run, PAIR_DAEMONS).length === 0) return [];
  const first = record ? nodeNamed(layout, record.primary) : layout.nodes[0];
  const results: { service: string; stopped: boolean }[] = [];
  for (const node of [first, otherNode(layout, first.name)])
    results.push({ service: node.name, stopped: await stopNode(context, node) });
  return results;
}

/** Stops the pair and deletes its data and record: the next `up` makes a new one. For tests. */
export async function removePostgresPair(context: StackContext): Promise<void> {
  const layout = pairOf(context);
  await postgresPairDown(context);
  rmSync(layout.root, { recursive: true, force: true });
  rmSync(join(context.paths.data, POSTGRES_PAIR), { recursive: true, force: true });
}

/** `pnpm stack logs postgres-pair` means both nodes. */
export function pairLogNames(): readonly string[] {
  return PAIR_NODE_NAMES;
}
