/**
 * report: what PostgreSQL holds, per city: rows, partitions, time span, min/avg/max of
 * temperature, wind and humidity, a temperature sparkline, and late arrivals; with --verify, the
 * proof that every offset is accounted for. Wiring only; see city-summary.ts, late-arrivals.ts,
 * render.ts and verify/.
 */
import {
  asDependencyFailure,
  classifyFailure,
  createKafka,
  DependencyUnavailableError,
  postgresOptions,
  runWorker,
} from "@weather/service-kit";
import postgres from "postgres";
import { summarizeCities } from "./city-summary.ts";
import { REPORT_WORKER } from "./config.ts";
import { lateArrivals } from "./late-arrivals.ts";
import { type CityReport, renderSummary } from "./render.ts";
import { renderVerification } from "./verify/render.ts";
import { verifyPipeline } from "./verify/verify.ts";

await runWorker({
  ...REPORT_WORKER,
  async run(config, { logger }) {
    const { json, verify, manifest } = config.report;
    const sql = postgres(config.postgres.url, {
      ...postgresOptions(config.postgres),
      max: 1,
      connect_timeout: 10,
      onnotice: () => {},
    });
    try {
      if (verify) {
        const admin = createKafka(config.kafka, { clientId: "report-verify", logger }).admin();
        await admin.connect().catch((error: unknown) => {
          throw new DependencyUnavailableError("Kafka", error, classifyFailure("Kafka", error).hint);
        });
        try {
          const result = await verifyPipeline({
            sql,
            kafka: createKafka(config.kafka, { clientId: "report-verify", logger }),
            admin,
            topic: config.topics.readings,
            deadLetterTopic: config.topics.deadLetters,
            group: config.sinkGroup,
            ...(manifest !== undefined ? { manifest } : {}),
          }).catch(explainDatabaseError);
          // --json is one line: a machine reads it, and log lines may stand beside it on stdout.
          const asJson = () =>
            JSON.stringify(result, (_key, value) => (typeof value === "bigint" ? String(value) : value));
          console.log(json ? asJson() : renderVerification(result));
          return result.holds ? "OK" : "CHECK_FAILED";
        } finally {
          await admin.disconnect();
        }
      }
      const reported = async (): Promise<CityReport[]> => {
        const summaries = await summarizeCities(sql);
        const arrivals = await lateArrivals(sql);
        return summaries.map((city) => {
          const cityArrivals = arrivals.find((a) => a.city === city.city);
          return cityArrivals === undefined ? city : { ...city, arrivals: cityArrivals };
        });
      };
      const cities = await reported().catch(explainDatabaseError);
      console.log(json ? JSON.stringify(cities, null, 2) : renderSummary(cities));
      return "OK";
    } finally {
      await sql.end({ timeout: 5 });
    }
  },
});

/** A database that is down, refuses the report or is not bootstrapped ends it with DEPENDENCY_UNAVAILABLE. */
function explainDatabaseError(error: unknown): never {
  throw asDependencyFailure("PostgreSQL", error);
}
