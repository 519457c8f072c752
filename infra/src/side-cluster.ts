import { rmSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_STACK } from "@weather/service-kit";
import type { StackContext } from "./context.ts";
import { type StackPaths, stackPaths } from "./paths.ts";
import { kafkaDown, kafkaUp } from "./services/kafka.ts";
import { stackContext } from "./stack.ts";

/**
 * A three-node Kafka cluster beside the local stack: the three-broker scenarios (`test:cluster`)
 * and the bench's cluster phase start it, use it and stop it, while the stack's own Kafka, which
 * everyone else uses, keeps running untouched. It lives in `<STACK_DIR>/cluster` (data, logs,
 * pids), listens from LOCAL_STACK.sideClusterKafkaPort, and shares the stack's downloads; the
 * workers on it use the stack's PostgreSQL and registry. Started with the same code as
 * `pnpm stack up --brokers 3`, without the SASL_SSL listeners (PLAINTEXT is all they need), or,
 * with `secure`, as `pnpm stack up --brokers 3 --secure`: SASL_SSL only, the authorizer, the
 * workers' principals and ACLs, its own CA and secrets in `<STACK_DIR>/cluster/secrets`.
 */
export const SIDE_CLUSTER_NODES = 3;

export function sideClusterPaths(shared: StackPaths = stackPaths()): StackPaths {
  return stackPaths(join(shared.root, "cluster"), shared.downloads);
}

export function sideClusterContext(
  log: (message: string) => void,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { secure?: boolean } = {},
): StackContext {
  const secure = options.secure ? "1" : "0";
  return stackContext(
    sideClusterPaths(),
    {
      ...env,
      STACK_KAFKA_BROKERS: String(SIDE_CLUSTER_NODES),
      STACK_KAFKA_PORT: String(LOCAL_STACK.sideClusterKafkaPort),
      STACK_KAFKA_SECURE: secure,
      STACK_SECURE: secure,
    },
    log,
  );
}

/**
 * Starts a fresh side cluster: whatever an earlier, interrupted run left in its folder is stopped
 * and removed first (it is nobody else's), so every run begins from empty logs.
 */
export async function startSideCluster(context: StackContext): Promise<void> {
  await kafkaDown(context);
  rmSync(context.paths.data, { recursive: true, force: true });
  rmSync(context.paths.logs, { recursive: true, force: true });
  await kafkaUp(context);
}

/** Stops every node and removes the data; the logs stay for whoever wants to read what happened. */
export async function stopSideCluster(context: StackContext): Promise<void> {
  await kafkaDown(context);
  rmSync(context.paths.data, { recursive: true, force: true });
}
