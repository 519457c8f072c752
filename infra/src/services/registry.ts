import { join } from "node:path";
import {
  CONFLUENT_COMPAT_PATH,
  ConfigError,
  type ConfigProblem,
  LOCAL_STACK,
  type RegistryPorts,
  type RegistryProxyPorts,
  registryPorts,
  registryProxyPorts,
} from "@weather/service-kit";
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
import { wholeNumber } from "./kafka-layout.ts";

export const REGISTRY = "registry";

/** Where the registry and, under --secure, its TLS proxy listen. */
export interface RegistryLayout {
  readonly ports: RegistryPorts;
  readonly proxy: RegistryProxyPorts;
  /** Apicurio's own Confluent-compatible API, plain HTTP. */
  readonly url: string;
  /** The proxy's: TLS, basic auth or the bearer token. */
  readonly tlsUrl: string;
  /** The proxy's: TLS, a client certificate. */
  readonly mtlsUrl: string;
}

export function registryLayout(
  httpPort: number = LOCAL_STACK.registryPort,
  proxyPort: number = LOCAL_STACK.registryTlsPort,
): RegistryLayout {
  const ports = registryPorts(httpPort);
  const proxy = registryProxyPorts(proxyPort);
  return Object.freeze({
    ports,
    proxy,
    url: `http://${STACK_HOST}:${ports.http}${CONFLUENT_COMPAT_PATH}`,
    tlsUrl: `https://${STACK_HOST}:${proxy.tls}${CONFLUENT_COMPAT_PATH}`,
    mtlsUrl: `https://${STACK_HOST}:${proxy.mtls}${CONFLUENT_COMPAT_PATH}`,
  });
}

/**
 * STACK_REGISTRY_PORT moves Apicurio (its management port follows, + 1000), and
 * STACK_REGISTRY_PROXY_PORT the proxy's two ports (the mutual-TLS one follows, + 1).
 * @throws ConfigError naming every bad value.
 */
export function readRegistryLayout(env: Readonly<Record<string, string | undefined>>): RegistryLayout {
  const problems: ConfigProblem[] = [];
  const port = (setting: string, fallback: number, what: string) => {
    const raw = env[setting]?.trim() || undefined;
    return raw === undefined
      ? fallback
      : wholeNumber(raw, setting, 1024, 64_000, `${what} (default ${fallback})`, problems);
  };
  const http = port("STACK_REGISTRY_PORT", LOCAL_STACK.registryPort, "the registry's HTTP port");
  const proxy = port(
    "STACK_REGISTRY_PROXY_PORT",
    LOCAL_STACK.registryTlsPort,
    "the registry's TLS port under --secure",
  );
  if (problems.length > 0 || http === undefined || proxy === undefined) throw new ConfigError(problems);
  return registryLayout(http, proxy);
}

export function registryLayoutOf(context: StackContext): RegistryLayout {
  return context.registry ?? registryLayout();
}

/** Apicurio's plain API on the default port: what every worker defaults to. */
export const REGISTRY_URL = registryLayout().url;

/**
 * Ready means Quarkus reports UP (storage included) and the Confluent-compatible API answers:
 * the API is what the workers use, and it is mounted a moment after health turns UP.
 */
export async function probeRegistry(ports: RegistryPorts = registryPorts()): Promise<string | true> {
  try {
    const health = await fetch(`http://${STACK_HOST}:${ports.management}/health/ready`, {
      signal: AbortSignal.timeout(3_000),
    });
    const body = (await health.json()) as { status?: string };
    if (body.status !== "UP") return `health is ${body.status ?? health.status}`;
    const url = `http://${STACK_HOST}:${ports.http}${CONFLUENT_COMPAT_PATH}`;
    const subjects = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(3_000) });
    return subjects.ok ? true : `GET ${CONFLUENT_COMPAT_PATH}/subjects answered ${subjects.status}`;
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string } }).cause?.code;
    return cause ?? (error as Error).message;
  }
}

/** Settings passed as system properties; the same ones docker-compose.yml sets as variables. */
export function registrySettings(context: StackContext): Record<string, string> {
  const jdbc = new URL(context.postgresUrl);
  const { ports } = registryLayoutOf(context);
  return {
    "quarkus.http.host": STACK_HOST,
    "quarkus.http.port": String(ports.http),
    "quarkus.management.host": STACK_HOST,
    "quarkus.management.port": String(ports.management),
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
  const { ports, url } = registryLayoutOf(context);
  const state = await bringUp({
    name: REGISTRY,
    paths: context.paths,
    probe: () => probeRegistry(ports),
    start: () => startRegistry(context),
    // The first start creates the registry's tables; later ones take a few seconds.
    readyWithinMs: 120_000,
    log: context.log,
  });
  return { name: REGISTRY, address: url, state, logFile: logFileOf(context.paths, REGISTRY) };
}

export function registryStatus(context: StackContext): Promise<ServiceStatus> {
  const { ports, url } = registryLayoutOf(context);
  return observeService({
    name: REGISTRY,
    address: url,
    paths: context.paths,
    probe: () => probeRegistry(ports),
  });
}
