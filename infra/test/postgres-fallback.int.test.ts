import { mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@weather/test-support";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { daemonState, stopDaemon } from "../src/daemon.ts";
import { stackPaths } from "../src/paths.ts";
import { kafkaLayout } from "../src/services/kafka-layout.ts";
import { bundledPostgres, POSTGRES, postgresUp } from "../src/services/postgres.ts";

// A machine without PostgreSQL: nothing answers at DATABASE_URL, so the stack starts the bundled
// server. An unused port stands in for the missing server. The stack lives in a folder only its
// owner may enter (mkdtemp makes it 0700), like a checkout in root's home directory: as root the
// server runs as nobody, who could not enter it.
describe("the stack on a machine without PostgreSQL, from a folder only its owner may enter", () => {
  const root = mkdtempSync(join(tmpdir(), "stack-pg-"));
  const paths = stackPaths(root);

  afterAll(async () => {
    await stopDaemon(paths.run, POSTGRES);
    rmSync((await bundledPostgres(paths)).dataDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it("starts the bundled PostgreSQL, answers queries, and stops it by pid", async () => {
    expect(statSync(root).mode & 0o777).toBe(0o700);
    const port = await freePort();
    const context = {
      paths,
      postgresUrl: new URL(`postgres://postgres@127.0.0.1:${port}/weather`),
      kafka: kafkaLayout(),
      log: () => {},
    };

    const status = await postgresUp(context);
    expect(status.state.kind).toBe("started");

    const sql = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1 });
    try {
      const databases = await sql<{ datname: string }[]>`select datname from pg_database`;
      expect(databases.map((row) => row.datname)).toContain("apicurio_registry");
    } finally {
      await sql.end();
    }

    // The cluster is reachable from the stack's folder, wherever it really lives.
    const { dataDir } = await bundledPostgres(paths);
    expect(realpathSync(join(paths.data, "postgres"))).toBe(realpathSync(dataDir));

    // A second `up` finds it running and leaves it be.
    expect((await postgresUp(context)).state.kind).toBe("running");

    expect(await stopDaemon(paths.run, POSTGRES)).toBe(true);
    expect(daemonState(paths.run, POSTGRES).kind).toBe("absent");
  });
});
