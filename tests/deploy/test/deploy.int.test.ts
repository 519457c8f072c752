import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { daemonState, KAFKA, kafkaTlsFiles, secureKafkaClientEnv, stackPaths } from "@weather/infra";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deployWorkers,
  expectSuccess,
  type RunResult,
  repoRoot,
  runDeployed,
  runEnvironment,
  startDeployed,
} from "./deployed.ts";

const PER_STATION = 40;
const STATIONS = 2; // Winnipeg and Vancouver, the built-in catalog
const SINK_ROLE = "weather_sink";

let deployed: ReturnType<typeof deployWorkers>;

beforeAll(() => {
  deployed = deployWorkers();
});

afterAll(() => {
  deployed?.remove();
});

interface PipelineRun {
  readonly outputs: readonly RunResult[];
  readonly rows: number;
  readonly perCity: Record<string, number>;
}

/**
 * bootstrap, then the producer with --count, then the sink --until-caught-up as the sink's role,
 * each from its deployed folder; returns what they printed and what PostgreSQL holds.
 */
async function runPipeline(
  env: ReturnType<typeof runEnvironment>,
  kafkaEnv: Record<string, string>,
  options: { sinkPassword: string; logLevel: string },
): Promise<PipelineRun> {
  const common = {
    ...kafkaEnv,
    SCHEMA_REGISTRY_URL: env.settings.registry.url,
    READINGS_TOPIC: env.topic,
    LOG_LEVEL: options.logLevel,
  };
  const bootstrap = expectSuccess(
    "bootstrap",
    await runDeployed(deployed.dirOf("bootstrap"), [], {
      ...common,
      DATABASE_URL: env.adminDatabaseUrl,
      READINGS_PARTITIONS: "3",
      SINK_DB_ROLE: SINK_ROLE,
      SINK_DB_PASSWORD: options.sinkPassword,
    }),
  );
  const producer = expectSuccess(
    "sensor-producer",
    await runDeployed(
      deployed.dirOf("sensor-producer"),
      ["--count", String(PER_STATION), "--seed", env.id],
      common,
    ),
  );
  const sink = expectSuccess(
    "pg-sink",
    await runDeployed(deployed.dirOf("pg-sink"), ["--until-caught-up"], {
      ...common,
      DATABASE_URL: env.sinkDatabaseUrl(SINK_ROLE, options.sinkPassword),
      SINK_GROUP_ID: `deploy-test-${env.id}`,
      SINK_HTTP_PORT: "0",
      SINK_BATCH_MAX_WAIT_MS: "100",
    }),
  );
  const report = expectSuccess(
    "report",
    await runDeployed(deployed.dirOf("report"), ["--json"], { DATABASE_URL: env.adminDatabaseUrl }),
  );
  const cities = JSON.parse(report.stdout) as { city: string; rows: number }[];
  const sql = postgres(env.adminDatabaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from weather_readings`;
    return {
      outputs: [bootstrap, producer, sink, report],
      rows: row?.n ?? -1,
      perCity: Object.fromEntries(cities.map((c) => [c.city, c.rows])),
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

describe("each worker deployed with pnpm deploy, run from its folder on plain node", () => {
  const env = runEnvironment("deploy");
  afterAll(() => env.cleanup());

  it("ships production dependencies only, compiled JavaScript and the migrations", () => {
    for (const worker of ["bootstrap", "sensor-producer", "pg-sink", "report", "dashboard"] as const) {
      const dir = deployed.dirOf(worker);
      expect(existsSync(join(dir, "dist", "main.js")), worker).toBe(true);
      expect(existsSync(join(dir, "src")), `${worker} ships no sources`).toBe(false);
      for (const dev of ["vitest", "typescript", "@biomejs/biome", "drizzle-kit"]) {
        expect(existsSync(join(dir, "node_modules", dev)), `${worker} has no ${dev}`).toBe(false);
      }
    }
    const migrations = join(deployed.dirOf("bootstrap"), "node_modules", "@weather", "db", "drizzle");
    expect(existsSync(join(migrations, "meta", "_journal.json"))).toBe(true);
    // The page and its chart library come with the dashboard, not from the internet.
    expect(existsSync(join(deployed.dirOf("dashboard"), "public", "app.js"))).toBe(true);
    expect(
      existsSync(join(deployed.dirOf("dashboard"), "node_modules", "uplot", "dist", "uPlot.iife.min.js")),
    ).toBe(true);
  });

  it("deploys from the shared lockfile while development keeps the workspace packages linked", () => {
    // The deployed copy is a real folder (injected), not a link back into the repository...
    const deployedSchema = join(deployed.dirOf("pg-sink"), "node_modules", "@weather", "schema");
    expect(realpathSync(deployedSchema).startsWith(deployed.root)).toBe(true);
    // ...while the apps in the repository still see the package's live sources.
    const developed = join(repoRoot, "apps", "pg-sink", "node_modules", "@weather", "schema");
    expect(lstatSync(developed).isSymbolicLink()).toBe(true);
    expect(realpathSync(developed)).toBe(join(repoRoot, "packages", "weather-schema"));
  });

  it("refuses a bad security configuration at start, naming every problem at once", async () => {
    const result = await runDeployed(deployed.dirOf("pg-sink"), [], {
      KAFKA_SASL_MECHANISM: "kerberos",
      KAFKA_SSL_CA_FILE: "/nonexistent/ca.pem",
      DATABASE_URL: "postgres://weather_sink@127.0.0.1:5432/weather?sslmode=sometimes",
      DATABASE_PASSWORD_FILE: "/nonexistent/password",
    });
    expect(result.code).toBe(2);
    for (const setting of [
      "KAFKA_SASL_MECHANISM",
      "KAFKA_SASL_USERNAME",
      "KAFKA_SASL_PASSWORD",
      "KAFKA_SSL_CA_FILE",
      "DATABASE_URL",
      "DATABASE_PASSWORD_FILE",
    ]) {
      expect(result.stdout, setting).toContain(`${setting}:`);
    }
  });

  it("stores every reading exactly once, the sink running as its least-privilege role", async () => {
    const run = await runPipeline(
      env,
      { KAFKA_BROKERS: env.settings.kafka.brokers.join(",") },
      {
        sinkPassword: randomBytes(12).toString("hex"),
        logLevel: "info",
      },
    );
    console.log(`deployed pipeline over PLAINTEXT: ${run.rows} rows`, run.perCity);
    expect(run.rows).toBe(PER_STATION * STATIONS);
    expect(run.perCity).toEqual({ vancouver: PER_STATION, winnipeg: PER_STATION });
  });

  it("serves the dashboard from its folder, reading what the pipeline stored as the read-only role", async () => {
    const reader = new URL(env.adminDatabaseUrl);
    reader.username = "weather_reader";
    const dashboard = startDeployed(deployed.dirOf("dashboard"), {
      KAFKA_BROKERS: env.settings.kafka.brokers.join(","),
      DATABASE_URL: reader.toString(),
      READINGS_TOPIC: env.topic,
      SINK_GROUP_ID: `deploy-test-${env.id}`,
      DASHBOARD_PORT: "0",
      DASHBOARD_SINK_METRICS_URLS: "none",
      DASHBOARD_SINK_DISCOVERY_PORT: "off",
      DASHBOARD_REFRESH_MS: "300",
      DASHBOARD_SERIES_REFRESH_MS: "1000",
    });
    try {
      const deadline = Date.now() + 60_000;
      let port: number | undefined;
      let day: { summaries: { readings: number }[] } | undefined;
      while (Date.now() < deadline && day === undefined) {
        port ??= Number(/"port":(\d+),"msg":"dashboard at/.exec(dashboard.output())?.[1]) || undefined;
        if (port !== undefined) {
          const snapshot = (await (await fetch(`http://127.0.0.1:${port}/api/snapshot`)).json()) as {
            sources: { day: { status: string; data: { summaries: { readings: number }[] } } | null };
          };
          if (snapshot.sources.day?.status === "ok") day = snapshot.sources.day.data;
        }
        if (day === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(day, dashboard.output()).toBeDefined();
      expect(day?.summaries.reduce((sum, city) => sum + city.readings, 0)).toBe(PER_STATION * STATIONS);
      for (const path of ["/", "/app.js", "/vendor/uPlot.iife.min.js"]) {
        expect((await fetch(`http://127.0.0.1:${port}${path}`)).status, path).toBe(200);
      }
    } finally {
      dashboard.child.kill("SIGTERM");
    }
    expect(await dashboard.exited).toBe(0);
  });

  it("gives the sink's role no DELETE, UPDATE of readings, TRUNCATE or CREATE", async () => {
    const sql = postgres(env.sinkDatabaseUrl(SINK_ROLE, "unused-with-trust-auth"), {
      max: 1,
      onnotice: () => {},
    });
    const codeOf = (query: Promise<unknown>) =>
      query.then(
        () => "allowed",
        (error: { code?: string }) => error.code,
      );
    try {
      expect(await codeOf(sql`select count(*) from weather_readings`)).toBe("allowed");
      expect(await codeOf(sql`select count(*) from weather_readings_winnipeg`)).toBe("allowed");
      expect(await codeOf(sql`select count(*) from consumer_offsets`)).toBe("allowed");
      expect(await codeOf(sql`delete from weather_readings`)).toBe("42501");
      expect(await codeOf(sql`delete from weather_readings_winnipeg`)).toBe("42501");
      expect(await codeOf(sql`update weather_readings set temperature_c = 0`)).toBe("42501");
      expect(await codeOf(sql`truncate weather_readings`)).toBe("42501");
      expect(await codeOf(sql`delete from consumer_offsets`)).toBe("42501");
      expect(await codeOf(sql`select count(*) from reading_resends`)).toBe("allowed");
      expect(await codeOf(sql`delete from reading_resends`)).toBe("42501");
      expect(await codeOf(sql`update reading_resends set city = 'x'`)).toBe("42501");
      expect(await codeOf(sql`create table sink_was_here (id int)`)).toBe("42501");
      expect(await codeOf(sql`drop table consumer_offsets`)).toBe("42501");
      expect(await codeOf(sql`select count(*) from drizzle.__drizzle_migrations`)).toBe("42501");
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

describe("the same pipeline over SASL/SCRAM-SHA-512 and TLS", () => {
  const env = runEnvironment("scram");
  afterAll(() => env.cleanup());
  const files = kafkaTlsFiles(stackPaths());
  // The SASL_SSL listener exists only on a broker this stack started (CI's case). A broker someone
  // else runs, e.g. another checkout's stack, has its certificate elsewhere: say so and skip.
  const foreignBroker = daemonState(stackPaths().run, KAFKA).kind !== "running" && !existsSync(files.caFile);
  if (foreignBroker) {
    console.log(
      `skipped: Kafka was not started by this checkout's stack, so it has no certificate at ${files.caFile}`,
    );
  }

  it.skipIf(foreignBroker)(
    "stores every reading exactly once, and no log line holds a password",
    async () => {
      if (!existsSync(files.caFile) || !existsSync(files.scramPasswordFile)) {
        throw new Error(
          `the stack's Kafka has no SASL_SSL listener yet (${files.caFile} missing); it is added when the stack starts the broker: restart it with pnpm stack down && pnpm stack up`,
        );
      }
      const secure = secureKafkaClientEnv(stackPaths());
      const kafkaPassword = readFileSync(files.scramPasswordFile, "utf8").trim();
      const sinkPassword = randomBytes(12).toString("hex");
      // The password itself in the environment (not the file), so it is in reach of every logger.
      const { KAFKA_SASL_PASSWORD_FILE: _file, ...kafkaEnv } = secure;
      const run = await runPipeline(
        env,
        { ...kafkaEnv, KAFKA_SASL_PASSWORD: kafkaPassword },
        { sinkPassword, logLevel: "debug" },
      );
      console.log(`deployed pipeline over SASL_SSL ${secure.KAFKA_BROKERS}: ${run.rows} rows`, run.perCity);
      expect(run.rows).toBe(PER_STATION * STATIONS);

      const logs = run.outputs.map((o) => `${o.stdout}\n${o.stderr}`).join("\n");
      expect(logs.length).toBeGreaterThan(1_000);
      expect(logs).not.toContain(kafkaPassword);
      expect(logs).not.toContain(sinkPassword);
      // The sink's DATABASE_URL carries its password: logged, it shows masked.
      expect(logs).not.toMatch(new RegExp(`${SINK_ROLE}:(?!\\*\\*\\*@)[^@\\s"]+@`));
    },
  );
});
