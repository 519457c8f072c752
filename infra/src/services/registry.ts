import { join } from "node:path";
import { CONFLUENT_COMPAT_PATH, LOCAL_STACK } from "@weather/service-kit";
import {
  bringUp,
  logFileOf,
  observeService,
  type ServiceStatus,
  STACK_HOST,
  type StackContext,
} from "../context.ts";
import { startDaemon } from "../daemon.ts";
import { findJava } from "../java.ts";
import { DEPENDENCY_PLUGIN, downloadOnce } from "../maven.ts";
import { StackError } from "../stack-error.ts";
import { APICURIO_MIN_JAVA, APICURIO_VERSION } from "../versions.ts";

export const REGISTRY = "registry";
export const REGISTRY_URL = `http://${STACK_HOST}:${LOCAL_STACK.registryPort}${CONFLUENT_COMPAT_PATH}`;
const HEALTH_URL = `http://${STACK_HOST}:${LOCAL_STACK.registryManagementPort}/health/ready`;

/**
 * Ready means Quarkus reports UP (storage included) and the Confluent-compatible API answers:
 * the API is what the workers use, and it is mounted a moment after health turns UP.
 */
export async function probeRegistry(): Promise<string | true> {
  try {
    const health = await fetch(HEALTH_URL, { signal: AbortSignal.timeout(3_000) });
    const body = (await health.json()) as { status?: string };
    if (body.status !== "UP") return `health is ${body.status ?? health.status}`;
    const subjects = await fetch(`${REGISTRY_URL}/subjects`, { signal: AbortSignal.timeout(3_000) });
    return subjects.ok ? true : `GET ${CONFLUENT_COMPAT_PATH}/subjects answered ${subjects.status}`;
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string } }).cause?.code;
    return cause ?? (error as Error).message;
  }
}

/** Settings passed as system properties; the same ones docker-compose.yml sets as variables. */
export function registrySettings(context: StackContext): Record<string, string> {
  const jdbc = new URL(context.postgresUrl);
  return {
    "quarkus.http.host": STACK_HOST,
    "quarkus.http.port": String(LOCAL_STACK.registryPort),
    "quarkus.management.host": STACK_HOST,
    "quarkus.management.port": String(LOCAL_STACK.registryManagementPort),
    // Schemas live in a PostgreSQL database of their own, so they survive restarts of the stack.
    "apicurio.storage.kind": "sql",
    "apicurio.storage.sql.kind": "postgresql",
    "apicurio.datasource.url": `jdbc:postgresql://${jdbc.hostname}:${jdbc.port || "5432"}/${LOCAL_STACK.registryDatabase}`,
    "apicurio.datasource.username": decodeURIComponent(jdbc.username || "postgres"),
    "apicurio.datasource.password": decodeURIComponent(jdbc.password),
    // Confluent's registry checks BACKWARD compatibility by default; schema evolution relies on it.
    "apicurio.rules.global.compatibility": "BACKWARD",
    // Subjects and versions may be deleted through the API, as with Confluent's registry.
    "apicurio.rest.deletion.artifact.enabled": "true",
    "apicurio.rest.deletion.artifact-version.enabled": "true",
    "apicurio.rest.deletion.group.enabled": "true",
  };
}

async function startRegistry(context: StackContext): Promise<number> {
  const java = findJava(APICURIO_MIN_JAVA, "REGISTRY_JAVA_HOME");
  if ("problem" in java) {
    throw new StackError(REGISTRY, `Apicurio Registry ${APICURIO_VERSION} ${java.problem}`);
  }
  const appDir = join(context.paths.downloads, "apicurio-registry");
  await downloadOnce({
    service: REGISTRY,
    targetDir: appDir,
    version: `apicurio-registry ${APICURIO_VERSION}`,
    proof: "quarkus-run.jar",
    mavenArgs: [
      "-q",
      `${DEPENDENCY_PLUGIN}:unpack`,
      `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
      `-DoutputDirectory=${appDir}`,
    ],
    logFile: join(context.paths.logs, `${REGISTRY}-download.log`),
    log: context.log,
  });
  const marker = `-Dweather.stack.registry=${context.paths.root}`;
  const properties = Object.entries(registrySettings(context)).map(([key, value]) => `-D${key}=${value}`);
  return startDaemon(context.paths.run, {
    name: REGISTRY,
    command: java.runtime.executable,
    args: ["-Xms128m", "-Xmx512m", marker, ...properties, "-jar", join(appDir, "quarkus-run.jar")],
    cwd: appDir,
    logFile: logFileOf(context.paths, REGISTRY),
    marker,
  });
}

export async function registryUp(context: StackContext): Promise<ServiceStatus> {
  const state = await bringUp({
    name: REGISTRY,
    paths: context.paths,
    probe: probeRegistry,
    start: () => startRegistry(context),
    // The first start creates the registry's tables; later ones take a few seconds.
    readyWithinMs: 120_000,
    log: context.log,
  });
  return { name: REGISTRY, address: REGISTRY_URL, state, logFile: logFileOf(context.paths, REGISTRY) };
}

export function registryStatus(context: StackContext): Promise<ServiceStatus> {
  return observeService({
    name: REGISTRY,
    address: REGISTRY_URL,
    paths: context.paths,
    probe: probeRegistry,
  });
}
