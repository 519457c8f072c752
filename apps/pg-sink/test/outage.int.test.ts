import { createServer, type Server, Socket } from "node:net";
import { testSettings } from "@weather/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createWorld,
  makeReadings,
  produceReadings,
  rowCounts,
  startTestSink,
  storedReadingIds,
  type World,
  waitFor,
} from "./harness.ts";

/** A TCP port that refuses connections until `open()` forwards it to `target`: an outage, then a recovery. */
async function outage(target: URL): Promise<{ port: number; open(): void; close(): Promise<void> }> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
  let server: Server | undefined;
  return {
    port,
    open() {
      server = createServer((client) => {
        const upstream = new Socket().connect(Number(target.port), target.hostname);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on("error", drop);
        upstream.on("error", drop);
      }).listen(port, "127.0.0.1");
    },
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}

describe("pg-sink while the registry and PostgreSQL are unreachable", () => {
  let world: World;
  const readings = makeReadings(500, 31);

  beforeAll(async () => {
    world = await createWorld("outage", 2);
    await produceReadings(world, readings);
  });
  afterAll(() => world?.close());

  it("waits for each, says what it waits for, and stores everything once they are back", async () => {
    const registryUrl = new URL(testSettings.registry.url);
    const databaseUrl = new URL(world.databaseUrl);
    const registry = await outage(registryUrl);
    const database = await outage(databaseUrl);
    const viaRegistry = new URL(registryUrl);
    viaRegistry.port = String(registry.port);
    const viaDatabase = new URL(databaseUrl);
    viaDatabase.port = String(database.port);

    const sink = await startTestSink(world, {
      SCHEMA_REGISTRY_URL: viaRegistry.toString(),
      DATABASE_URL: viaDatabase.toString(),
      SINK_BACKOFF_MAX_MS: "500",
    });
    const readyz = async () =>
      (await (await fetch(`http://127.0.0.1:${sink.httpPort}/readyz`)).json()) as Record<string, unknown>;
    try {
      await waitFor(
        "the sink to wait for the registry",
        async () => (await readyz()).waitingFor === "schema registry",
      );
      registry.open();
      await waitFor(
        "the sink to wait for PostgreSQL",
        async () => (await readyz()).waitingFor === "PostgreSQL",
      );
      expect((await rowCounts(world)).rows).toBe(0);
      database.open();
      await sink.caughtUp;
      expect((await readyz()).waitingFor).toBeNull();
    } finally {
      await sink.stop();
      await registry.close();
      await database.close();
    }
    expect(await rowCounts(world)).toEqual({ rows: 500, distinct: 500 });
    expect(await storedReadingIds(world)).toEqual(readings.map((r) => r.readingId).sort());
  }, 180_000);
});
