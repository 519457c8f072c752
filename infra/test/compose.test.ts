import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_STACK } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT, stackPaths } from "../src/paths.ts";
import { heapOptions, serverProperties } from "../src/services/kafka.ts";
import { kafkaLayout } from "../src/services/kafka-layout.ts";
import { registrySettings } from "../src/services/registry.ts";
import { APICURIO_VERSION, kafkaVersion } from "../src/versions.ts";

// No Docker engine runs here, so docker-compose.yml is kept honest by reading it against the
// local stack: same versions, same host ports, same settings.
interface ComposeService {
  image: string;
  environment: Record<string, string | number>;
  ports: string[];
  healthcheck?: unknown;
  build?: { context: string; dockerfile?: string; args?: Record<string, string> };
  depends_on?: Record<string, { condition: string; required?: boolean }>;
  command?: string[];
  profiles?: string[];
}
const compose = parse(readFileSync(join(REPO_ROOT, "docker-compose.yml"), "utf8")) as {
  services: Record<string, ComposeService>;
};
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};

/** The broker settings the compose file must share with infra/src/services/kafka.ts. */
const BROKER_SETTINGS = [
  "auto.create.topics.enable",
  "num.partitions",
  "default.replication.factor",
  "min.insync.replicas",
  "offsets.topic.replication.factor",
  "transaction.state.log.replication.factor",
  "transaction.state.log.min.isr",
  "share.coordinator.state.topic.replication.factor",
  "share.coordinator.state.topic.min.isr",
  "group.initial.rebalance.delay.ms",
  "process.roles",
] as const;
const asEnv = (key: string) => `KAFKA_${key.toUpperCase().replaceAll(".", "_")}`;
const propertiesOf = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );

describe("docker-compose.yml matches the local stack", () => {
  it("runs the Kafka version the pom fetches", () => {
    expect(service("kafka").image).toBe(`apache/kafka:${kafkaVersion()}`);
  });

  it("runs the Apicurio Registry version the stack fetches", () => {
    expect(service("registry").image).toBe(`apicurio/apicurio-registry:${APICURIO_VERSION}`);
  });

  it("publishes every service on the local stack's host ports", () => {
    expect(service("kafka").ports).toContain(`127.0.0.1:${LOCAL_STACK.kafkaPort}:9092`);
    expect(service("registry").ports).toContain(`127.0.0.1:${LOCAL_STACK.registryPort}:8080`);
    expect(service("postgres").ports).toContain(`127.0.0.1:${LOCAL_STACK.postgresPort}:5432`);
  });

  it("gives every service a healthcheck", () => {
    for (const name of ["kafka", "registry", "postgres"]) expect(service(name).healthcheck).toBeDefined();
  });

  it("configures the broker as the stack does", () => {
    const local = propertiesOf(serverProperties({ logDir: "/tmp/x" }));
    const env = service("kafka").environment;
    for (const key of BROKER_SETTINGS) expect(String(env[asEnv(key)]), key).toBe(local[key]);
  });

  it("has a cluster profile with the three-node layout of pnpm stack up --brokers 3", () => {
    const layout = kafkaLayout(3, LOCAL_STACK.sideClusterKafkaPort);
    const names = layout.nodes.map((node) => node.name);
    const clusterIds = new Set<unknown>();
    for (const node of layout.nodes) {
      const compose = service(node.name);
      const env = compose.environment;
      const local = propertiesOf(serverProperties({ layout, node, logDir: "/tmp/x" }));
      expect(compose.profiles, node.name).toEqual(["cluster"]);
      expect(compose.image, node.name).toBe(`apache/kafka:${kafkaVersion()}`);
      expect(compose.healthcheck, node.name).toBeDefined();
      expect(String(env.KAFKA_NODE_ID), node.name).toBe(local["node.id"]);
      for (const key of BROKER_SETTINGS)
        expect(String(env[asEnv(key)]), `${node.name} ${key}`).toBe(local[key]);
      expect(String(env.KAFKA_HEAP_OPTS), node.name).toBe(heapOptions(layout).join(" "));
      expect(String(env.KAFKA_CONTROLLER_QUORUM_VOTERS), node.name).toBe(
        names.map((name, i) => `${i + 1}@${name}:9093`).join(","),
      );
      // Published where the side cluster listens, beside the single broker's 9092.
      expect(compose.ports, node.name).toEqual([`127.0.0.1:${node.ports.broker}:9092`]);
      expect(String(env.KAFKA_ADVERTISED_LISTENERS), node.name).toBe(
        `INTERNAL://${node.name}:29092,HOST://${node.address}`,
      );
      clusterIds.add(env.CLUSTER_ID);
    }
    expect(clusterIds.size, "one cluster id for all three nodes").toBe(1);
    expect(service("kafka").profiles).toBeUndefined();
  });

  it("configures the registry as the stack does, apart from addresses", () => {
    const local = registrySettings({
      paths: stackPaths("/tmp/x"),
      postgresUrl: new URL("postgres://postgres@127.0.0.1:5432/weather"),
      kafka: kafkaLayout(),
      log: () => {},
    });
    const env = service("registry").environment;
    for (const [key, value] of Object.entries(local)) {
      if (key.startsWith("quarkus.") || key === "apicurio.datasource.url") continue;
      expect(String(env[key.toUpperCase().replaceAll(/[.-]/g, "_")]), key).toBe(value);
    }
  });
});

describe("docker-compose.yml runs the pipeline on those services", () => {
  const WORKERS = ["bootstrap", "sensor-producer", "pg-sink", "report", "dashboard"] as const;
  const DOCKERFILE = join(REPO_ROOT, "Dockerfile");

  it("builds every worker from the one Dockerfile, its APP argument naming it, the repository root as context", () => {
    for (const worker of WORKERS) {
      expect(service(worker).build, worker).toEqual({ context: ".", args: { APP: worker } });
    }
    expect(existsSync(DOCKERFILE)).toBe(true);
    expect(existsSync(join(REPO_ROOT, ".dockerignore"))).toBe(true);
  });

  it("builds a multi-stage image on the worker's deploy output, run by an unprivileged user", () => {
    const packageManager = (
      JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { packageManager: string }
    ).packageManager;
    const dockerfile = readFileSync(DOCKERFILE, "utf8");
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:24-(slim|alpine)/);
    expect(dockerfile).toMatch(/^ARG APP$/m);
    expect(dockerfile).toContain(`npm install --global --no-fund --no-audit ${packageManager}`);
    expect(dockerfile).toContain('pnpm --filter "${APP}" --prod deploy --offline /deploy');
    expect(dockerfile).toContain("COPY --from=build /deploy /app");
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain('CMD ["node", "dist/main.js"]');
  });

  it("checks the health of the workers that serve HTTP on their /healthz", () => {
    const sinkPort = String(service("pg-sink").environment.SINK_HTTP_PORT);
    const dashboardPort = String(service("dashboard").environment.DASHBOARD_PORT);
    expect(JSON.stringify(service("pg-sink").healthcheck)).toContain(`127.0.0.1:${sinkPort}/healthz`);
    expect(JSON.stringify(service("dashboard").healthcheck)).toContain(`127.0.0.1:${dashboardPort}/healthz`);
  });

  it("points the workers at the services by name, Kafka through its INTERNAL listener", () => {
    const kafkaEnv = service("kafka").environment;
    expect(String(kafkaEnv.KAFKA_ADVERTISED_LISTENERS)).toContain("INTERNAL://kafka:29092");
    for (const worker of ["bootstrap", "sensor-producer", "pg-sink"]) {
      const env = service(worker).environment;
      // The single broker unless COMPOSE_KAFKA_BROKERS names the cluster profile's nodes.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own interpolation, not a JS template
      expect(env.KAFKA_BROKERS, worker).toBe("${COMPOSE_KAFKA_BROKERS:-kafka:29092}");
      expect(env.SCHEMA_REGISTRY_URL, worker).toBe("http://registry:8080/apis/ccompat/v7");
    }
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own interpolation, not a JS template
    expect(service("dashboard").environment.KAFKA_BROKERS).toBe("${COMPOSE_KAFKA_BROKERS:-kafka:29092}");
    for (const worker of ["bootstrap", "pg-sink", "report", "dashboard"]) {
      const url = new URL(String(service(worker).environment.DATABASE_URL));
      expect(`${url.hostname}:${url.port}${url.pathname}`, worker).toBe("postgres:5432/weather");
    }
  });

  it("runs the sink as the role bootstrap creates, with the password bootstrap sets", () => {
    const bootstrap = service("bootstrap").environment;
    const sink = service("pg-sink").environment;
    expect(new URL(String(sink.DATABASE_URL)).username).toBe(bootstrap.SINK_DB_ROLE);
    expect(sink.DATABASE_PASSWORD).toBe(bootstrap.SINK_DB_PASSWORD);
    expect(String(sink.SINK_HTTP_PORT)).toBe("9464");
  });

  it("runs the dashboard as the read-only role bootstrap creates, published on the host, finding the sinks", () => {
    const bootstrap = service("bootstrap").environment;
    const dashboard = service("dashboard").environment;
    expect(new URL(String(dashboard.DATABASE_URL)).username).toBe(bootstrap.READER_DB_ROLE);
    expect(dashboard.DATABASE_PASSWORD).toBe(bootstrap.READER_DB_PASSWORD);
    expect(bootstrap.READER_DB_ROLE).not.toBe(bootstrap.SINK_DB_ROLE);
    expect(dashboard.DASHBOARD_HOST).toBe("0.0.0.0");
    expect(service("dashboard").ports).toContain(
      `127.0.0.1:${dashboard.DASHBOARD_PORT}:${dashboard.DASHBOARD_PORT}`,
    );
    expect(String(dashboard.DASHBOARD_SINK_DISCOVERY_PORT)).toBe(
      String(service("pg-sink").environment.SINK_HTTP_PORT),
    );
  });

  it("starts bootstrap once the services are healthy, and the workers once bootstrap succeeded", () => {
    expect(service("bootstrap").depends_on).toEqual({
      postgres: { condition: "service_healthy" },
      kafka: { condition: "service_healthy" },
      "kafka-1": { condition: "service_healthy", required: false },
      "kafka-2": { condition: "service_healthy", required: false },
      "kafka-3": { condition: "service_healthy", required: false },
      registry: { condition: "service_healthy" },
    });
    for (const worker of ["sensor-producer", "pg-sink", "report", "dashboard"]) {
      expect(service(worker).depends_on?.bootstrap, worker).toEqual({
        condition: "service_completed_successfully",
      });
    }
    // The image runs the producer with its start:prod script's node flags (V8 heap settings).
    const startProd = (
      JSON.parse(readFileSync(join(REPO_ROOT, "apps/sensor-producer/package.json"), "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts["start:prod"];
    const nodeFlags = (startProd ?? "").split(/\s+/).filter((word) => word.startsWith("--"));
    expect(nodeFlags).toContain("--max-semi-space-size=16");
    expect(service("sensor-producer").command).toEqual([
      "node",
      ...nodeFlags,
      "dist/main.js",
      "--count",
      "134",
    ]);
    expect(service("report").profiles).toEqual(["report"]);
  });
});

/** The Dockerfile's instructions, continuation lines joined and comments left out. */
function dockerInstructions(text: string): { keyword: string; args: string }[] {
  return text
    .replaceAll(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

describe("the Dockerfile installs dependencies in a layer a source edit does not invalidate", () => {
  const instructions = dockerInstructions(readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8"));
  const stageStart = instructions.findIndex((i) => i.keyword === "FROM" && i.args.endsWith(" AS build"));
  const stageEnd = instructions.findIndex((i, at) => at > stageStart && i.keyword === "FROM");
  const build = instructions.slice(stageStart, stageEnd < 0 ? undefined : stageEnd);
  const at = (what: string, matches: (i: { keyword: string; args: string }) => boolean) => {
    const found = build.findIndex(matches);
    if (found < 0) throw new Error(`the Dockerfile's build stage has no ${what}`);
    return found;
  };
  const manifests = at(
    "COPY --parents of the manifests",
    (i) => i.keyword === "COPY" && i.args.startsWith("--parents "),
  );
  const install = at("pnpm install", (i) => i.keyword === "RUN" && i.args.startsWith("pnpm install "));
  const sources = at("COPY . .", (i) => i.keyword === "COPY" && i.args === ". .");
  const compile = at("build", (i) => i.keyword === "RUN" && i.args.includes(" run build"));

  it("copies only the manifests before installing, and the sources after", () => {
    expect(stageStart).toBeGreaterThanOrEqual(0);
    expect(manifests).toBeLessThan(install);
    expect(install).toBeLessThan(sources);
    expect(sources).toBeLessThan(compile);
    const copiesBeforeInstall = build
      .slice(0, install)
      .filter((i) => i.keyword === "COPY" || i.keyword === "ADD");
    expect(copiesBeforeInstall).toEqual([build[manifests]]);
  });

  it("copies what pnpm installs from: every workspace member's package.json (pnpm-workspace.yaml's globs), the lockfile, the workspace file and the patches", () => {
    const workspace = parse(readFileSync(join(REPO_ROOT, "pnpm-workspace.yaml"), "utf8")) as {
      packages: string[];
      patchedDependencies: Record<string, string>;
    };
    const words = (build[manifests]?.args ?? "").split(" ");
    expect(words.at(-1), "the destination").toBe("./");
    expect(new Set(words.slice(1, -1))).toEqual(
      new Set([
        "package.json",
        "pnpm-lock.yaml",
        "pnpm-workspace.yaml",
        "patches",
        ...workspace.packages.map((glob) => `${glob}/package.json`),
      ]),
    );
    for (const patch of Object.values(workspace.patchedDependencies)) expect(patch).toMatch(/^patches\//);
  });
});
