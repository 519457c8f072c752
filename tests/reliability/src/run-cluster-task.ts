/**
 * `pnpm --filter reliability-suite test:cluster`: starts a fresh three-node Kafka cluster of its
 * own (src/cluster-stack.ts), runs the cluster scenarios against it (vitest.cluster.config.ts)
 * with KAFKA_BROKERS naming its nodes, and stops it again, pass, fail or Ctrl-C. Exits with
 * vitest's code. Extra arguments go to vitest (e.g. a file name to run one scenario).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { probePostgres, probeRegistry, startSideCluster, stopSideCluster } from "@weather/infra";
import { REPO_ROOT } from "@weather/test-support";
import { CLUSTER_BOOTSTRAP_SERVERS, clusterContext, clusterPaths } from "./cluster-stack.ts";
import { seconds, since } from "./report.ts";

const log = (message: string) => console.log(`[test:cluster] ${message}`);

/** Set by SIGINT/SIGTERM: the task stops what it is doing, and still stops the cluster. */
let interrupted = false;
let vitestChild: ReturnType<typeof spawn> | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    interrupted = true;
    // Ctrl-C reaches vitest through the terminal already; a SIGTERM from CI is passed on.
    if (signal === "SIGTERM") vitestChild?.kill("SIGTERM");
  });
}

function runVitest(args: readonly string[]): Promise<number> {
  const vitest = join(REPO_ROOT, "node_modules", "vitest", "vitest.mjs");
  const child = spawn(process.execPath, [vitest, "run", "--config", "vitest.cluster.config.ts", ...args], {
    cwd: join(REPO_ROOT, "tests", "reliability"),
    stdio: "inherit",
    env: { ...process.env, KAFKA_BROKERS: CLUSTER_BOOTSTRAP_SERVERS },
  });
  vitestChild = child;
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on("error", (error) => {
      log(`cannot run vitest (${error.message})`);
      resolve(1);
    });
  });
}

async function main(): Promise<number> {
  const started = performance.now();
  const context = clusterContext((message) => log(message));
  const [postgres, registry] = await Promise.all([probePostgres(context.postgresUrl), probeRegistry()]);
  if (postgres !== true || registry !== true) {
    log(
      `the cluster scenarios use the shared PostgreSQL and registry, and they do not answer ` +
        `(PostgreSQL: ${postgres === true ? "ok" : postgres}; registry: ${registry === true ? "ok" : registry}); run: pnpm stack up`,
    );
    return 1;
  }
  let code = 1;
  try {
    // A fresh cluster every run: what an earlier, interrupted run left behind is removed first.
    await startSideCluster(context);
    log(
      `cluster ${CLUSTER_BOOTSTRAP_SERVERS} ready in ${seconds(since(started))} (logs: ${clusterPaths.logs})`,
    );
    if (interrupted) {
      code = 130;
    } else {
      const testsStarted = performance.now();
      // `pnpm … test:cluster -- file` passes the `--` on: vitest would then run every file.
      code = await runVitest(process.argv.slice(2).filter((arg) => arg !== "--"));
      log(`scenarios finished in ${seconds(since(testsStarted))} with exit code ${code}`);
    }
  } finally {
    const stopping = performance.now();
    await stopSideCluster(context);
    log(`cluster stopped in ${seconds(since(stopping))}; the task took ${seconds(since(started))} in all`);
  }
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
