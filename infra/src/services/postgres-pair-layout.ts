import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_STACK } from "@weather/service-kit";
import { ConfigError, type ConfigProblem } from "@weather/settings";
import { STACK_HOST } from "../context.ts";
import { daemonState } from "../daemon.ts";
import type { StackPaths } from "../paths.ts";
import { serviceDataPath } from "./postgres-runtime.ts";

/**
 * The stack's own PostgreSQL primary and streaming standby (`pnpm stack up --postgres-standby`):
 * two nodes with fixed names, ports and data folders, whose roles swap at each failover. Which
 * node is the primary now lives in a record beside their data (see PairRecord), so `status`,
 * `failover` and `rejoin` work in any order, from any shell, and after `down` and `up`.
 */
export const POSTGRES_PAIR = "postgres-pair";

export const STANDBY_MODES = ["sync", "async"] as const;
/**
 * sync: the primary reports a commit once the standby has flushed it (synchronous_standby_names
 * names the standby, synchronous_commit=on); async: at once, the standby follows as fast as it can.
 */
export type StandbyMode = (typeof STANDBY_MODES)[number];

export type PairNodeName = "postgres-1" | "postgres-2";

export interface PairNode {
  readonly name: PairNodeName;
  readonly port: number;
  /** host:port */
  readonly address: string;
  /** The physical replication slot the primary keeps for this node while it is the standby. */
  readonly slot: string;
}

export interface PostgresPairLayout {
  readonly nodes: readonly [PairNode, PairNode];
  /**
   * The replication mode `up` brings the pair up in: the flag, else STACK_POSTGRES_STANDBY, else
   * the recorded one while a node of the pair runs; undefined means `up` leaves the pair alone.
   */
  readonly mode: StandbyMode | undefined;
  /** STACK_POSTGRES_BINARIES: "bundled", or a folder of PostgreSQL programs; undefined: the machine's, else bundled. */
  readonly binaries: string | undefined;
  /** Where the nodes' data and the roles record live (a real path; .stack/data/postgres-pair links here as root). */
  readonly root: string;
}

/**
 * Which node is the primary, which one a failover fenced, and with which programs the data was
 * made. Written before and after each step of a failover, so an interrupted one can be run again.
 */
export interface PairRecord {
  readonly binDir: string;
  readonly binSource: "machine" | "bundled";
  readonly major: string;
  readonly primary: PairNodeName;
  /** The old primary a failover stopped: it must not run as a primary again; `rejoin` makes it the standby. */
  readonly fenced: PairNodeName | null;
  readonly mode: StandbyMode;
  readonly ports: readonly [number, number];
}

export const PAIR_NODE_NAMES: readonly [PairNodeName, PairNodeName] = ["postgres-1", "postgres-2"];

export function pairNodes(ports: readonly [number, number]): readonly [PairNode, PairNode] {
  const node = (name: PairNodeName, port: number): PairNode =>
    Object.freeze({ name, port, address: `${STACK_HOST}:${port}`, slot: name.replace("-", "_") });
  return Object.freeze([node("postgres-1", ports[0]), node("postgres-2", ports[1])] as const);
}

export function otherNode(layout: PostgresPairLayout, name: PairNodeName): PairNode {
  return layout.nodes[layout.nodes[0].name === name ? 1 : 0];
}

export function nodeNamed(layout: PostgresPairLayout, name: PairNodeName): PairNode {
  return layout.nodes[layout.nodes[0].name === name ? 0 : 1];
}

export function nodeDataDir(layout: PostgresPairLayout, node: PairNode): string {
  return join(layout.root, node.name);
}

function recordFile(root: string): string {
  return join(root, "pair.json");
}

export function readPairRecord(root: string): PairRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(recordFile(root), "utf8")) as PairRecord;
    // Data removed by hand leaves a record of nothing: a fresh pair starts over.
    return existsSync(join(root, record.primary, "PG_VERSION")) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces the record whole (write, then rename), so a reader never sees half of one. */
export function writePairRecord(root: string, record: PairRecord): void {
  mkdirSync(root, { recursive: true });
  const file = recordFile(root);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/**
 * The workers' DATABASE_URL for the pair: both nodes, and target_session_attrs=primary, so a
 * client (postgres.js, libpq; pgjdbc spells it targetServerType=primary) connects to whichever is
 * not in recovery and tries the other when that one goes away. Not read-write: postgres.js 3.4
 * decides read-write on default_transaction_read_only alone, which a hot standby of PostgreSQL 14+
 * reports as off, so it would take the standby for the primary (docs/postgres-failover.md).
 * `prefer-standby` suits a reader (the dashboard).
 */
export function postgresPairUrl(
  layout: Pick<PostgresPairLayout, "nodes">,
  options: { user?: string; database?: string; targetSessionAttrs?: string } = {},
): string {
  const { user = "postgres", database = LOCAL_STACK.database, targetSessionAttrs = "primary" } = options;
  const hosts = layout.nodes.map((node) => node.address).join(",");
  return `postgres://${encodeURIComponent(user)}@${hosts}/${database}?target_session_attrs=${targetSessionAttrs}`;
}

function readMode(
  raw: string | undefined,
  setting: string,
  problems: ConfigProblem[],
): StandbyMode | undefined {
  if (raw === undefined) return undefined;
  const mode = STANDBY_MODES.find((m) => m === raw.trim().toLowerCase());
  if (mode === undefined) {
    problems.push({
      setting,
      message: `"${raw}" is not a standby mode; expected sync (a commit waits for the standby) or async`,
    });
  }
  return mode;
}

function readPorts(
  raw: string | undefined,
  problems: ConfigProblem[],
): readonly [number, number] | undefined {
  if (raw === undefined) return undefined;
  const ports = raw.split(",").map((part) => part.trim());
  const valid = ports.every((port) => /^\d+$/.test(port) && Number(port) >= 1024 && Number(port) <= 65_535);
  if (ports.length !== 2 || !valid || ports[0] === ports[1]) {
    problems.push({
      setting: "STACK_POSTGRES_PAIR_PORTS",
      message: `"${raw}" is not two different ports from 1024 to 65535, e.g. ${LOCAL_STACK.postgresPairPorts.join(",")} (postgres-1's, then postgres-2's)`,
    });
    return undefined;
  }
  return [Number(ports[0]), Number(ports[1])];
}

/**
 * The pair a `pnpm stack` command works on: the mode from `--postgres-standby`, else
 * STACK_POSTGRES_STANDBY, else the recorded one while a node runs; the ports from
 * STACK_POSTGRES_PAIR_PORTS, else the recorded ones, else LOCAL_STACK's.
 * @throws ConfigError naming every bad value.
 */
export function readPostgresPair(
  env: Readonly<Record<string, string | undefined>>,
  paths: StackPaths,
  modeFlag?: string,
): PostgresPairLayout {
  const problems: ConfigProblem[] = [];
  const root = serviceDataPath(paths, POSTGRES_PAIR, "pair");
  const record = readPairRecord(root);
  const requested =
    modeFlag !== undefined
      ? readMode(modeFlag, "--postgres-standby", problems)
      : readMode(env.STACK_POSTGRES_STANDBY?.trim() || undefined, "STACK_POSTGRES_STANDBY", problems);
  const ports = readPorts(env.STACK_POSTGRES_PAIR_PORTS?.trim() || undefined, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const running = PAIR_NODE_NAMES.some((name) => daemonState(paths.run, name).kind === "running");
  return Object.freeze({
    nodes: pairNodes(ports ?? record?.ports ?? LOCAL_STACK.postgresPairPorts),
    mode: requested ?? (running ? record?.mode : undefined),
    binaries: env.STACK_POSTGRES_BINARIES?.trim() || undefined,
    root,
  });
}
