import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EXIT_CODES } from "@weather/service-kit";
import { freePort } from "@weather/test-support";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackContext } from "../src/context.ts";
import { daemonState } from "../src/daemon.ts";
import { stackPaths } from "../src/paths.ts";
import { failover, rejoin } from "../src/services/postgres-failover.ts";
import { startNode, stopNode, waitWritable } from "../src/services/postgres-node.ts";
import {
  type PairNodeStatus,
  pairOf,
  postgresPairDown,
  postgresPairStatus,
  postgresPairUp,
  recordedBinaries,
  removePostgresPair,
} from "../src/services/postgres-pair.ts";
import {
  type PairNode,
  postgresPairUrl,
  readPairRecord,
  type StandbyMode,
} from "../src/services/postgres-pair-layout.ts";
import { machineBinaries } from "../src/services/postgres-runtime.ts";
import { stackContext } from "../src/stack.ts";
import { StackConflict } from "../src/stack-error.ts";

// The stack's own primary and standby, each case in a stack folder and on ports of its own, so
// neither the developer's stack nor the machine's server on 5432 is touched. The synchronous pair
// runs on the machine's PostgreSQL where it has one (pg_basebackup, pg_rewind), the asynchronous
// one on the bundled build (a low-level backup, and a fresh copy to rejoin).
const CASES: readonly { mode: StandbyMode; binaries: "machine" | "bundled" }[] = [
  { mode: "sync", binaries: "machine" },
  { mode: "async", binaries: "bundled" },
];

/** A query on the pair through the URL the workers use: it finds the primary by itself. */
async function onPrimary<T>(context: StackContext, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const pair = context.postgresPair;
  if (!pair) throw new Error("the context has no pair");
  const sql = postgres(postgresPairUrl(pair, { database: "postgres" }), { max: 1, onnotice: () => {} });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

/**
 * The rows a node holds; a standby replays a commit (the table's too) a moment after the primary
 * made it, so this waits up to 10 s for `atLeast` rows.
 */
async function rowsOn(node: PairNode, atLeast: number): Promise<number[]> {
  const sql = postgres({
    host: "127.0.0.1",
    port: node.port,
    user: "postgres",
    database: "postgres",
    max: 1,
  });
  const noTableYet = (error: { code?: string }) => (error.code === "42P01" ? [] : Promise.reject(error));
  try {
    for (let attempt = 0; ; attempt++) {
      const rows = await sql<{ id: number }[]>`select id from pair_test order by id`.catch(noTableYet);
      if (rows.length >= atLeast || attempt >= 100) return rows.map((row) => row.id);
      await sleep(100);
    }
  } finally {
    await sql.end();
  }
}

function roles(statuses: readonly PairNodeStatus[]): Record<string, string> {
  return Object.fromEntries(statuses.map((status) => [status.name, status.role]));
}

describe.each(CASES)(
  "the stack's PostgreSQL primary and $mode standby ($binaries binaries)",
  ({ mode, binaries }) => {
    let root: string;
    let context: StackContext;
    let nodes: readonly [PairNode, PairNode];
    const insert = (id: number) => onPrimary(context, (sql) => sql`insert into pair_test values (${id})`);
    const serverPort = () =>
      onPrimary(
        context,
        async (sql) => (await sql<{ port: number }[]>`select inet_server_port() as port`)[0]?.port,
      );

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), `stack-pair-${mode}-`));
      const ports = [await freePort(), await freePort()];
      context = stackContext(
        stackPaths(root),
        {
          STACK_POSTGRES_STANDBY: mode,
          STACK_POSTGRES_PAIR_PORTS: ports.join(","),
          ...(binaries === "bundled" ? { STACK_POSTGRES_BINARIES: "bundled" } : {}),
        },
        () => {},
      );
      if (!context.postgresPair) throw new Error("stackContext made no pair");
      nodes = context.postgresPair.nodes;
    });

    afterAll(async () => {
      await removePostgresPair(context);
      rmSync(root, { recursive: true, force: true });
    });

    it("starts a primary and a streaming standby; a write on the primary shows on the standby", async () => {
      const statuses = await postgresPairUp(context);
      expect(roles(statuses)).toEqual({ "postgres-1": "primary", "postgres-2": "standby" });
      expect(statuses.map((status) => status.state.kind)).toEqual(["started", "started"]);
      expect(statuses[1]?.replication).toMatchObject({ state: "streaming", synchronous: mode === "sync" });

      await onPrimary(context, (sql) => sql`create table pair_test (id int primary key)`);
      await insert(1);
      expect(await rowsOn(nodes[1], 1)).toEqual([1]);
    });

    it("fails over: fences the old primary, and the URL's writes land on the promoted standby", async () => {
      const result = await failover(context);
      expect(result).toMatchObject({ promoted: "postgres-2", fenced: "postgres-1", fencedRunning: true });
      expect(daemonState(context.paths.run, "postgres-1").kind).not.toBe("running");
      expect(roles(await postgresPairStatus(context))).toEqual({
        "postgres-1": "fenced",
        "postgres-2": "primary",
      });

      await insert(2);
      expect(await serverPort()).toBe(nodes[1].port);
      expect(await rowsOn(nodes[1], 2)).toEqual([1, 2]);
    });

    it("refuses a failover with no standby left, in one line", async () => {
      const refused = await failover(context).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(StackConflict);
      expect((refused as StackConflict).exitCode).toBe(EXIT_CODES.CONFLICT);
      expect((refused as Error).message).toMatch(
        /^postgres-pair: no standby to promote: .*pnpm stack rejoin$/,
      );
    });

    it("refuses to rejoin while the fenced old primary runs as a primary too", async () => {
      const record = readPairRecord(pairOf(context).root);
      if (!record) throw new Error("no pair record");
      // Someone started the old primary by hand: two servers now accept writes.
      startNode(context, pairOf(context), recordedBinaries(record), nodes[0], { as: "primary" });
      await waitWritable(nodes[0]);
      const refused = await rejoin(context).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(StackConflict);
      expect((refused as Error).message).toMatch(
        /^postgres-pair: postgres-1 runs as a primary beside postgres-2/,
      );
      expect(await stopNode(context, nodes[0])).toBe(true);
    });

    it("rejoins the old primary as the standby, and a second failover goes back to it", async () => {
      const rejoined = await rejoin(context);
      // Without a packaged PostgreSQL, "machine" falls back to the bundled build, which has no pg_rewind.
      const rewinds = binaries === "machine" && machineBinaries()?.has.pg_rewind === true;
      expect(rejoined).toMatchObject({ node: "postgres-1", method: rewinds ? "pg_rewind" : "base backup" });
      const statuses = await postgresPairStatus(context);
      expect(roles(statuses)).toEqual({ "postgres-1": "standby", "postgres-2": "primary" });
      expect(statuses[0]?.replication).toMatchObject({ state: "streaming", synchronous: mode === "sync" });
      await insert(3);
      expect(await rowsOn(nodes[0], 3)).toEqual([1, 2, 3]);

      expect(await failover(context)).toMatchObject({ promoted: "postgres-1", fenced: "postgres-2" });
      await insert(4);
      expect(await serverPort()).toBe(nodes[0].port);
      expect(await rowsOn(nodes[0], 4)).toEqual([1, 2, 3, 4]);
      expect(await rejoin(context)).toMatchObject({ node: "postgres-2" });
    });

    it("down stops both; up brings them back in the roles they had", async () => {
      expect(await postgresPairDown(context)).toEqual([
        { service: "postgres-1", stopped: true },
        { service: "postgres-2", stopped: true },
      ]);
      for (const node of nodes) expect(daemonState(context.paths.run, node.name).kind).toBe("absent");

      const statuses = await postgresPairUp(context);
      expect(roles(statuses)).toEqual({ "postgres-1": "primary", "postgres-2": "standby" });
      expect(await rowsOn(nodes[1], 4)).toEqual([1, 2, 3, 4]);
    });
  },
);

describe("a port of the pair already taken", () => {
  it("refuses to start, naming the port and the process that holds it, in one line", async () => {
    const root = mkdtempSync(join(tmpdir(), "stack-pair-taken-"));
    const squatter = createServer();
    const taken = await freePort();
    await new Promise<void>((resolve) => squatter.listen(taken, "127.0.0.1", resolve));
    try {
      const context = stackContext(
        stackPaths(root),
        { STACK_POSTGRES_STANDBY: "async", STACK_POSTGRES_PAIR_PORTS: `${await freePort()},${taken}` },
        () => {},
      );
      const refused = await postgresPairUp(context).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(StackConflict);
      expect((refused as StackConflict).exitCode).toBe(EXIT_CODES.CONFLICT);
      expect((refused as Error).message).toMatch(
        new RegExp(
          `^postgres-2: port ${taken} is taken by pid ${process.pid} \\(.*node.*\\); stop it, or .*STACK_POSTGRES_PAIR_PORTS`,
        ),
      );
      expect((refused as Error).message).not.toContain("\n");
      expect(daemonState(context.paths.run, "postgres-1").kind).toBe("absent");
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
      rmSync(root, { recursive: true, force: true });
    }
  });
});
