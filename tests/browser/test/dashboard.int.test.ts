import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEAD_LETTER_HEADERS } from "@weather/schema";
import { createKafka } from "@weather/service-kit";
import { collectTopicToEnd, freePort, type Worker } from "@weather/test-support";
import type { Admin, Kafka } from "kafkajs";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.ts";
import { pipelineNames, spawnWorkerToSuccess, startWorker, waitFor } from "./pipeline.ts";
import { type TcpProxy, tcpProxy } from "./tcp-proxy.ts";

/** Committed, and linked from the README: each run draws it again. */
const SCREENSHOT = fileURLToPath(new URL("../../../docs/images/dashboard.png", import.meta.url));
const WEEK_HOURS = 168;
const DAY_TENS_OF_MINUTES = 144;
const STATIONS = ["CYWG", "CYVR"] as const;
const POISON = 3;
/** The viewer's own zone, far from both cities', so a time shown in it could not pass for theirs. */
const VIEWER_TIME_ZONE = "Asia/Tokyo";

const names = pipelineNames("browser");
const timings: Record<string, number> = {};
const suiteStarted = Date.now();

let kafka: Kafka;
let admin: Admin;
let sql: Sql;
let sink: Worker;
let sinkMetricsUrl: string;
let dashboard: Worker;
let baseUrl: string;
let databaseProxy: TcpProxy;
let kafkaProxy: TcpProxy;
let profile: string;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];
const requested: string[] = [];
let navigations = 0;

const common = () => ({
  KAFKA_BROKERS: names.settings.kafka.brokers.join(","),
  SCHEMA_REGISTRY_URL: names.settings.registry.url,
  READINGS_TOPIC: names.topic,
});

interface LatestRow {
  station_id: string;
  observed_at: Date;
  temperature_c: number;
  wind_speed_kmh: number;
  humidity_pct: number;
  pressure_hpa: number | null;
}

async function latestInPostgres(): Promise<Map<string, LatestRow>> {
  const rows = await sql<LatestRow[]>`
    select distinct on (station_id) station_id, observed_at, temperature_c, wind_speed_kmh, humidity_pct, pressure_hpa
    from weather_readings order by station_id, observed_at desc`;
  return new Map(rows.map((row) => [row.station_id, row]));
}

/** Within half a unit of the last digit shown: the page shows PostgreSQL's value, rounded. */
function expectShown(shown: string | null, stored: number, what: string): void {
  expect(shown, what).not.toBeNull();
  expect(
    Math.abs(Number(shown) - stored),
    `${what}: page shows ${shown}, PostgreSQL holds ${stored}`,
  ).toBeLessThanOrEqual(0.05 + 1e-9);
}

const text = (selector: string) => page.locator(selector).first().textContent();

beforeAll(async () => {
  const started = Date.now();
  kafka = createKafka(names.settings.kafka, { clientId: "browser-test" });
  admin = kafka.admin();
  await admin.connect();

  // The product, as pipeline.sh runs it: bootstrap, a week of hourly readings and a day of
  // ten-minute ones (both ending now), a few poison messages, and a sink that keeps running.
  await spawnWorkerToSuccess("bootstrap", [], {
    ...common(),
    DATABASE_URL: names.adminDatabaseUrl,
    READINGS_PARTITIONS: "3",
  });
  const producerEnv = { ...common(), PRODUCER_SCHEMA_VERSION: "2" };
  await spawnWorkerToSuccess(
    "sensor-producer",
    ["--count", String(WEEK_HOURS), "--interval", "1h", "--seed", `${names.id}-week`],
    producerEnv,
  );
  await spawnWorkerToSuccess(
    "sensor-producer",
    ["--count", String(DAY_TENS_OF_MINUTES), "--interval", "10m", "--seed", `${names.id}-day`],
    producerEnv,
  );
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({
    topic: names.topic,
    messages: [
      { key: "CYWG", value: Buffer.from("not a reading") },
      { key: "CYWG", value: Buffer.from("not a reading either") },
      // The registry's framing with a schema id no registry holds.
      { key: "CYVR", value: Buffer.from([0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3]) },
    ],
  });
  await producer.disconnect();

  const sinkPort = await freePort();
  sinkMetricsUrl = `http://127.0.0.1:${sinkPort}/metrics`;
  sink = startWorker("pg-sink", [], {
    ...common(),
    DATABASE_URL: names.sinkDatabaseUrl,
    SINK_GROUP_ID: names.groupId,
    SINK_HTTP_PORT: String(sinkPort),
    SINK_BATCH_MAX_WAIT_MS: "100",
    SINK_SESSION_TIMEOUT_MS: "10000",
  });
  sql = postgres(names.adminDatabaseUrl, { max: 1, onnotice: () => {} });
  const expectedRows = STATIONS.length * (WEEK_HOURS + DAY_TENS_OF_MINUTES);
  await waitFor("the sink to store every reading and dead-letter the poison", async () => {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from weather_readings`;
    const letters = (await admin.fetchTopicOffsets(names.deadLetterTopic)).reduce(
      (n, p) => n + Number(p.high),
      0,
    );
    return row?.n === expectedRows && letters === POISON ? true : undefined;
  });

  // The dashboard reaches PostgreSQL and Kafka through proxies the tests can cut. Kafka's is
  // closed at first: the dashboard starts without Kafka.
  const postgresAddress = new URL(names.adminDatabaseUrl);
  databaseProxy = await tcpProxy(postgresAddress.hostname, Number(postgresAddress.port || 5432));
  await databaseProxy.open();
  const [kafkaHost = "127.0.0.1", kafkaPort = "9092"] = (names.settings.kafka.brokers[0] ?? "").split(":");
  kafkaProxy = await tcpProxy(kafkaHost, Number(kafkaPort));
  dashboard = startWorker("dashboard", [], {
    ...common(),
    LOG_LEVEL: "info",
    KAFKA_BROKERS: `127.0.0.1:${kafkaProxy.port}`,
    DATABASE_URL: names.readerDatabaseUrl(databaseProxy.port),
    SINK_GROUP_ID: names.groupId,
    DASHBOARD_PORT: "0",
    DASHBOARD_SINK_METRICS_URLS: sinkMetricsUrl,
    DASHBOARD_SINK_DISCOVERY_PORT: "off",
    DASHBOARD_REFRESH_MS: "500",
    // The charts take in new buckets every second; the whole windows are recomputed only at the
    // default ten minutes, so what the page shows comes from the incremental refreshes.
    DASHBOARD_SERIES_REFRESH_MS: "1000",
    DASHBOARD_SOURCE_TIMEOUT_MS: "5000",
  });
  const port = await waitFor("the dashboard to listen", () => {
    const match = /"port":(\d+),"msg":"dashboard at http/.exec(dashboard.output());
    return match ? Number(match[1]) : undefined;
  });
  baseUrl = `http://127.0.0.1:${port}`;

  const launched = Date.now();
  profile = mkdtempSync(join(tmpdir(), "dashboard-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1280, height: 900 },
    timezoneId: VIEWER_TIME_ZONE,
    locale: "en-US",
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(`page error: ${error.message}`));
  page.on("request", (request) => requested.push(request.url()));
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });
  timings.chromiumLaunchMs = Date.now() - launched;
  timings.setupMs = Date.now() - started;
});

afterAll(async () => {
  await context?.close().catch(() => {});
  if (profile) rmSync(profile, { recursive: true, force: true });
  for (const worker of [dashboard, sink]) {
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
  }
  await databaseProxy?.close();
  await kafkaProxy?.close();
  await sql?.end({ timeout: 5 });
  await admin?.disconnect();
  await names.cleanup();
  console.log(
    `browser tests: ${((Date.now() - suiteStarted) / 1000).toFixed(1)} s in all; ${Object.entries(timings)
      .map(([what, ms]) => `${what} ${ms} ms`)
      .join(", ")}`,
  );
});

describe("the dashboard in Chromium, on the real pipeline", () => {
  it("loads without console errors, and fetches nothing but the dashboard's own files", async () => {
    const loading = Date.now();
    await page.goto(`${baseUrl}/`);
    await page.locator("body[data-ready=true]").waitFor();
    await page
      .locator('[data-station="CYWG"] [data-field="temperature"]')
      .filter({ hasNotText: "—" })
      .waitFor();
    timings.firstReadingsShownMs = Date.now() - loading;
    expect(consoleErrors).toEqual([]);
    expect(requested.length).toBeGreaterThan(5);
    expect(requested.filter((url) => !url.startsWith(`${baseUrl}/`))).toEqual([]);
  });

  it("says Kafka is unavailable while it cannot be reached, and shows the lag once it can", async () => {
    const badge = page.locator('#sources [data-source="lag"]');
    await expect.poll(() => badge.getAttribute("data-status"), { timeout: 30_000 }).toBe("unavailable");
    expect(await badge.textContent()).toBe("Kafka · lag: unavailable");
    const problem = page.locator("#lag .problem");
    expect(await problem.isVisible()).toBe(true);
    expect(await problem.textContent()).toContain(`cannot reach Kafka at 127.0.0.1:${kafkaProxy.port}`);
    expect(await page.locator("#dead-letters .problem").textContent()).toContain("cannot reach Kafka");

    await kafkaProxy.open();
    const recovering = Date.now();
    await expect.poll(() => badge.getAttribute("data-status"), { timeout: 30_000 }).toBe("ok");
    timings.kafkaRecoveryShownMs = Date.now() - recovering;
    expect(await problem.isVisible()).toBe(false);
    const highs = await admin.fetchTopicOffsets(names.topic);
    await expect.poll(() => page.locator("#lag tbody tr").count(), { timeout: 30_000 }).toBe(highs.length);
    for (const { partition, high } of highs) {
      expect(
        await page.locator(`#lag tr[data-partition="${partition}"] td[data-high]`).getAttribute("data-high"),
      ).toBe(high);
    }
    await expect.poll(() => text('#lag [data-field="totalLag"]'), { timeout: 30_000 }).toBe("0");
    expect(await text('#lag [data-field="members"]')).toMatch(/: partitions 0, 1, 2$/);
  });

  it("shows for each city the numbers PostgreSQL holds, at the city's own clock", async () => {
    const latest = await latestInPostgres();
    for (const station of STATIONS) {
      const stored = latest.get(station);
      if (!stored) throw new Error(`PostgreSQL holds no reading of ${station}`);
      const block = `[data-station="${station}"]`;
      await expect
        .poll(() => page.locator(block).getAttribute("data-observed-at"), { timeout: 30_000 })
        .toBe(stored.observed_at.toISOString());
      expectShown(
        await text(`${block} [data-field="temperature"]`),
        stored.temperature_c,
        `${station} temperature`,
      );
      expectShown(await text(`${block} [data-field="wind"]`), stored.wind_speed_kmh, `${station} wind`);
      expectShown(await text(`${block} [data-field="humidity"]`), stored.humidity_pct, `${station} humidity`);
      expect(stored.pressure_hpa, "schema version 2 readings carry pressure").not.toBeNull();
      expectShown(
        await text(`${block} [data-field="pressure"]`),
        stored.pressure_hpa ?? Number.NaN,
        `${station} pressure`,
      );

      // The observation time in the station's city's zone, by the browser's own time zone data.
      const timeZone = await page.locator(`.city:has(${block})`).getAttribute("data-time-zone");
      expect(timeZone).toBe(station === "CYWG" ? "America/Winnipeg" : "America/Vancouver");
      const expected = await page.evaluate(
        ([iso, zone]) => {
          const day = new Intl.DateTimeFormat("en-US", { timeZone: zone, month: "short", day: "numeric" });
          const clock = new Intl.DateTimeFormat("en-US", {
            timeZone: zone,
            hour: "2-digit",
            minute: "2-digit",
            second: "2-digit",
            hourCycle: "h23",
            timeZoneName: "short",
          });
          return `${day.format(new Date(iso))}, ${clock.format(new Date(iso))}`;
        },
        [stored.observed_at.toISOString(), timeZone ?? "UTC"] as const,
      );
      expect(await text(`${block} [data-field="observedAt"]`)).toBe(expected);
    }

    for (const city of ["winnipeg", "vancouver"]) {
      // The window and its figures are read from the page at once, then asked of PostgreSQL.
      const shown = await page
        .locator(`.city[data-city="${city}"] [data-summary="day"]`)
        .evaluate((summary) => {
          const field = (name: string) => summary.querySelector(`[data-field="${name}"]`)?.textContent ?? "";
          return {
            from: summary.getAttribute("data-from") ?? "",
            to: summary.getAttribute("data-to") ?? "",
            readings: field("readings"),
            min: field("min"),
            avg: field("avg"),
            max: field("max"),
          };
        });
      const [stored] = await sql<{ n: number; min: number; avg: number; max: number }[]>`
        select count(*)::int as n, min(temperature_c) as min, avg(temperature_c) as avg, max(temperature_c) as max
        from weather_readings
        where city = ${city} and observed_at >= ${new Date(shown.from)} and observed_at < ${new Date(shown.to)}`;
      if (!stored) throw new Error(`no figures for ${city}`);
      // Every ten-minute reading of the day, and the hourly ones of the same hours.
      expect(stored.n).toBeGreaterThan(DAY_TENS_OF_MINUTES);
      expect(shown.readings.replaceAll(",", "")).toBe(String(stored.n));
      expectShown(shown.min, stored.min, `${city} 24 h minimum`);
      expectShown(shown.avg, stored.avg, `${city} 24 h mean`);
      expectShown(shown.max, stored.max, `${city} 24 h maximum`);
    }

    const letters = await collectTopicToEnd(kafka, admin, names.deadLetterTopic);
    const reasons = new Map<string, number>();
    for (const letter of letters) {
      const kind = letter.headers?.[DEAD_LETTER_HEADERS.errorKind]?.toString() ?? "unknown";
      reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
    }
    await expect
      .poll(() => text('#dead-letters [data-field="total"]'), { timeout: 30_000 })
      .toBe(String(POISON));
    for (const [reason, count] of reasons) {
      expect(await text(`#dead-letters [data-reason="${reason}"]`)).toBe(`${reason}: ${count}`);
    }
    expect(await text('#sinks [data-field="up"]')).toBe("1 of 1");
  });

  it("fits a phone's screen without scrolling sideways", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await expect
        .poll(() => page.evaluate(() => document.documentElement.scrollWidth), { timeout: 10_000 })
        .toBeLessThanOrEqual(390);
      for (const card of await page.locator(".city, .panel").all()) {
        const box = await card.boundingBox();
        expect(box && box.x >= 0 && box.x + box.width <= 390, "every card inside the screen").toBe(true);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it("writes a screenshot of the page for the README", async () => {
    await page.locator('.city[data-city="winnipeg"] [data-chart="week"] canvas').waitFor();
    await page.waitForTimeout(1_000);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it("shows a new reading sent through the pipeline within seconds, without reloading", async () => {
    await page.evaluate(() => {
      (window as unknown as { sameDocument: boolean }).sameDocument = true;
    });
    const navigationsBefore = navigations;
    const before = (await latestInPostgres()).get("CYWG")?.observed_at.getTime() ?? 0;
    const producing = Date.now();
    await spawnWorkerToSuccess(
      "sensor-producer",
      ["--count", "1", "--stations", "CYWG", "--seed", `${names.id}-live`],
      {
        ...common(),
        PRODUCER_SCHEMA_VERSION: "2",
      },
    );
    const sent = Date.now();
    // The producer's own run: start Node, connect, send, wait for the acknowledgement, exit.
    timings.producerRunMs = sent - producing;
    const stored = await waitFor("the new reading in PostgreSQL", async () => {
      const row = (await latestInPostgres()).get("CYWG");
      return row && row.observed_at.getTime() > before ? row : undefined;
    });
    timings.newReadingStoredMs = Date.now() - sent;
    await expect
      .poll(() => page.locator('[data-station="CYWG"]').getAttribute("data-observed-at"), { timeout: 30_000 })
      .toBe(stored.observed_at.toISOString());
    timings.newReadingShownMs = Date.now() - sent;
    expectShown(
      await text('[data-station="CYWG"] [data-field="temperature"]'),
      stored.temperature_c,
      "new temperature",
    );
    expect(await text('[data-station="CYWG"] [data-field="age"]')).toMatch(/^\d+ s ago$/);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(
      true,
    );
    expect(navigations).toBe(navigationsBefore);
  });

  it("marks PostgreSQL unavailable while it is away, and recovers when it is back", async () => {
    await databaseProxy.close();
    const badge = page.locator('#sources [data-source="latest"]');
    await expect.poll(() => badge.getAttribute("data-status"), { timeout: 30_000 }).toBe("unavailable");
    const problem = page.locator('.city[data-city="winnipeg"] [data-problem="latest"]');
    expect(await problem.isVisible()).toBe(true);
    expect(await problem.textContent()).toMatch(
      new RegExp(`^Unavailable since .*: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${databaseProxy.port} `),
    );
    // The last readings stay, greyed out.
    expect(await page.locator('.city[data-city="winnipeg"] .stations').getAttribute("class")).toContain(
      "stale",
    );
    expect(await text('[data-station="CYWG"] [data-field="temperature"]')).not.toBe("—");

    await databaseProxy.open();
    const recovering = Date.now();
    await expect.poll(() => badge.getAttribute("data-status"), { timeout: 30_000 }).toBe("ok");
    timings.postgresRecoveryShownMs = Date.now() - recovering;
    expect(await problem.isVisible()).toBe(false);
    expect(await page.locator('.city[data-city="winnipeg"] .stations').getAttribute("class")).not.toContain(
      "stale",
    );
  });

  it("shows a stopped sink as down", async () => {
    sink.child.kill("SIGTERM");
    expect((await sink.exited).code).toBe(0);
    const stopped = Date.now();
    const entry = page.locator(`#sinks [data-sink-url="${sinkMetricsUrl}"]`);
    await expect.poll(() => entry.getAttribute("data-up"), { timeout: 30_000 }).toBe("false");
    timings.stoppedSinkShownMs = Date.now() - stopped;
    expect(await entry.locator(".state").textContent()).toBe("down");
    expect(await entry.textContent()).toContain("not answering (ECONNREFUSED)");
    expect(await text('#sinks [data-field="up"]')).toBe("0 of 1");
    await expect.poll(() => page.locator("#lag [data-member]").count(), { timeout: 30_000 }).toBe(0);
  });

  it("logged no console error over the whole session", () => {
    expect(consoleErrors).toEqual([]);
  });
});
