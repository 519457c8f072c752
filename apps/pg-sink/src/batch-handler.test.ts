import { createLogger, type Dependency, DependencyUnavailableError } from "@weather/service-kit";
import type { EachBatchPayload, KafkaMessage } from "kafkajs";
import type { Sql } from "postgres";
import { describe, expect, it } from "vitest";
import type { Sleep } from "./backoff.ts";
import { type BatchHandler, chunksOf, createBatchHandler } from "./batch-handler.ts";
import { CityTableSet } from "./city-tables.ts";
import type { ChunkDecoder, DecodedChunk } from "./decode-chunk.ts";
import { createSinkMetrics } from "./metrics.ts";
import { laterOf, planChunk, type TopicPartition } from "./offsets.ts";
import type { PoisonMessage } from "./poison.ts";
import type { SinkStatus } from "./status.ts";
import type { ChunkToWrite, ChunkWritten, RoutePoison } from "./write-chunk.ts";

describe("chunksOf", () => {
  it("splits a batch into transactions of at most the batch size, in order", () => {
    expect(chunksOf([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunksOf([1, 2], 5)).toEqual([[1, 2]]);
    expect(chunksOf([], 5)).toEqual([]);
  });
});

// The handler's parts are stood in for by fakes that keep the contracts the real ones keep:
// PostgreSQL stores a chunk's rows and its offset all or nothing, deciding by planChunk (the real
// one) what is fresh; kafkajs hands over batches and takes resolves, heartbeats and commits. Every
// wait goes through an injected sleep that never waits, so nothing here depends on the clock.

const TOPIC = "weather.readings";
const PARTITION = 2;
const SOURCE = `${TOPIC}[${PARTITION}]`;
/** A message whose value starts so cannot be decoded (see decodeFake). */
const POISON = "poison";
/** A reading whose value starts so is of a city whose table may be dropped (Trouble.tableDropped). */
const CALGARY = "calgary-";

/** The readings `r<from>` to `r<to - 1>`: one per offset, as a producer sends them. */
const readings = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `r${from + i}`);

/** A fetched batch: its messages' values, from offset `from` on. */
interface FetchedBatch {
  readonly from: number;
  readonly values: readonly string[];
  /** kafkajs's lastOffset(), past the last message when it filtered out records (transaction markers). */
  readonly lastOffset?: number;
}

/** What goes wrong while the handler works, and when. */
interface Trouble {
  /** Transactions that fail with a terminated backend before one goes through. */
  readonly postgresDown?: number;
  /** Decodings that fail because the schema registry does not answer. */
  readonly registryDown?: number;
  /** Calgary's table is dropped after the sink looked the tables up: PostgreSQL refuses its rows. */
  readonly tableDropped?: boolean;
  /** Dead-letter sends Kafka refuses before one is acknowledged. */
  readonly deadLettersRefused?: number;
  /** Offset commits Kafka refuses (the broker's answer is lost, the coordinator moved). */
  readonly kafkaCommitsFail?: number;
  /** Every transaction fails with an error that is not an outage. */
  readonly bug?: boolean;
  /** The heartbeat (1-based) answered with "rebalancing": the partition is being taken away. */
  readonly rebalanceAtHeartbeat?: number;
  /** Shutdown (SIGTERM) arrives during this wait (1-based); the wait itself would never end. */
  readonly stopDuringWait?: number;
  /** The batch turns stale (a seek elsewhere, a revoke) once this many of its chunks are resolved. */
  readonly staleAfterChunks?: number;
  /** The consumer is stopping before the batch is handed over. */
  readonly notRunning?: boolean;
}

interface Wait {
  readonly ms: number;
  /** What the status behind /readyz says the sink waits for. */
  readonly waitingFor: Dependency | undefined;
  /** The dependency weather_sink_waiting_for reports, if any. */
  readonly gauge: string | undefined;
  /** Heartbeats sent so far: one before every wait keeps the group membership. */
  readonly heartbeats: number;
}

/** Everything observable once the batches are handled; a case lists what differs from `QUIET`. */
interface Observed {
  readonly outcome: string;
  /** PostgreSQL: the partition's stored next offset and the readings stored, each once. */
  readonly storedNext: bigint | undefined;
  readonly stored: readonly string[];
  /** Kafka: offsets resolved, commits acknowledged, seeks made. */
  readonly resolved: readonly string[];
  readonly committed: readonly string[];
  readonly seeks: readonly string[];
  /** Dead letters Kafka acknowledged: `<source>@<offset>: <reason>`. */
  readonly deadLetters: readonly string[];
  readonly waits: readonly Wait[];
  readonly waitingForAfter: Dependency | undefined;
  readonly gaugeAfter: string | undefined;
  /** weather_sink_duplicate_readings_total. */
  readonly duplicates: number;
  /** Chunks decided (step 1), counting those decided again. */
  readonly decodings: number;
}

/** More waits than any case expects: a handler that never gives up fails the case instead of hanging. */
const MOST_WAITS = 10;

const QUIET = {
  outcome: "handled",
  seeks: [],
  deadLetters: [],
  waits: [],
  waitingForAfter: undefined,
  gaugeAfter: undefined,
  duplicates: 0,
  decodings: 1,
} satisfies Partial<Observed>;

function messageAt(offset: number, value: string): KafkaMessage {
  return {
    key: null,
    value: Buffer.from(value),
    timestamp: "1700000000000",
    attributes: 0,
    offset: String(offset),
    headers: {},
  };
}

const ALL_TABLES = new CityTableSet(new Set(["weather_readings_winnipeg", "weather_readings_calgary"]));
const CALGARY_GONE = new CityTableSet(new Set(["weather_readings_winnipeg"]));

/**
 * The chunk decoder's answer for messages whose value is their reading id: POISON... cannot be
 * decoded; CALGARY... readings are poison (no table) when `tables` has no calgary table.
 */
function decodeFake(
  source: TopicPartition,
  messages: readonly KafkaMessage[],
  tables: CityTableSet,
): DecodedChunk {
  const rowStart = new Int32Array(messages.length + 1);
  const rows: Buffer[] = [];
  const poison: PoisonMessage[] = [];
  let at = 0;
  for (const [index, message] of messages.entries()) {
    const id = message.value?.toString() ?? "";
    rowStart[index] = at;
    if (id.startsWith(POISON)) {
      poison.push({
        index,
        message,
        poison: { errorClass: "ReadingDecodeError", kind: "undecodable", message: "not a reading" },
      });
    } else if (id.startsWith(CALGARY) && !tables.has("calgary")) {
      poison.push({
        index,
        message,
        poison: { errorClass: "MissingCityTableError", kind: "no-table", message: "run bootstrap" },
      });
    } else {
      at += id.length;
      rows.push(Buffer.from(id));
    }
  }
  rowStart[messages.length] = at;
  return { source, messages, rows: Buffer.concat(rows), rowStart, poison, fastRows: 0, tables };
}

/**
 * PostgreSQL as writeChunk uses it: one transaction per chunk, rows and offset together or not at
 * all, dead letters acknowledged before COMMIT, a reading id stored once.
 */
function fakePostgres(trouble: Trouble, storedBefore: number | undefined) {
  let next = storedBefore === undefined ? undefined : BigInt(storedBefore);
  const stored = new Set(readings(0, storedBefore ?? 0));
  let outagesLeft = trouble.postgresDown ?? 0;

  async function writeChunk(
    _sql: Sql,
    { chunk, nextOffset, soughtTo }: ChunkToWrite,
    routePoison: RoutePoison,
  ): Promise<ChunkWritten> {
    if (trouble.bug) throw new TypeError("cannot read properties of undefined (reading 'city')");
    if (outagesLeft-- > 0) {
      throw Object.assign(new Error("terminating connection due to administrator command"), {
        code: "57P01",
      });
    }
    const storedNext = next ?? 0n;
    const plan = planChunk(chunk.messages, storedNext, soughtTo);
    if (plan.kind === "seek") return plan;
    const first = chunk.messages.length - plan.fresh.length;
    const poison = chunk.poison.filter((p) => p.index >= first);
    const fresh: string[] = [];
    let duplicates = 0;
    for (let i = first; i < chunk.messages.length; i++) {
      const id = chunk.messages[i]?.value?.toString() ?? "";
      if (poison.some((p) => p.index === i)) continue;
      if (id.startsWith(CALGARY) && trouble.tableDropped) {
        throw Object.assign(new Error('no partition of relation "weather_readings" found for row'), {
          code: "23514",
        });
      }
      if (stored.has(id) || fresh.includes(id)) duplicates++;
      else fresh.push(id);
    }
    if (poison.length > 0) await routePoison(poison);
    // COMMIT: rows and offset at once.
    for (const id of fresh) stored.add(id);
    next = laterOf(nextOffset, storedNext);
    return {
      kind: "stored",
      rowsWritten: fresh.length,
      duplicates,
      poison,
      alreadyStored: plan.alreadyStored,
      nextOffset: next,
    };
  }

  return {
    writeChunk,
    storedNext: () => next,
    stored: () => [...stored],
    /** Every transaction from now on fails until the test ends. */
    goDown() {
      outagesLeft = Number.POSITIVE_INFINITY;
    },
  };
}

/** kafkajs's side: the payloads it hands over, and what the handler did with them. */
function fakeKafka(trouble: Trouble) {
  const resolved: string[] = [];
  const committed: string[] = [];
  const seeks: string[] = [];
  let heartbeats = 0;
  let commitFailuresLeft = trouble.kafkaCommitsFail ?? 0;
  /** When set, each commit waits for the test to answer it. */
  const heldCommits: (() => void)[] = [];
  let holdCommits = false;

  function payloadOf(fetched: FetchedBatch): EachBatchPayload {
    const messages = fetched.values.map((value, i) => messageAt(fetched.from + i, value));
    const last = fetched.lastOffset ?? fetched.from + fetched.values.length - 1;
    let resolvedHere = 0;
    return {
      batch: {
        topic: TOPIC,
        partition: PARTITION,
        highWatermark: String(last + 1),
        messages,
        isEmpty: () => messages.length === 0,
        firstOffset: () => messages[0]?.offset ?? null,
        lastOffset: () => String(last),
        offsetLag: () => "0",
        offsetLagLow: () => "0",
      },
      resolveOffset(offset) {
        resolved.push(offset);
        resolvedHere++;
      },
      async heartbeat() {
        heartbeats++;
        if (heartbeats === trouble.rebalanceAtHeartbeat) {
          throw Object.assign(new Error("The group is rebalancing, so a rejoin is needed"), {
            type: "REBALANCE_IN_PROGRESS",
          });
        }
      },
      pause: () => () => {},
      async commitOffsetsIfNecessary(offsets) {
        const offset = offsets?.topics[0]?.partitions[0]?.offset ?? "?";
        if (holdCommits) await new Promise<void>((answer) => heldCommits.push(answer));
        if (commitFailuresLeft-- > 0) throw new Error("The coordinator is not aware of this member");
        committed.push(offset);
      },
      uncommittedOffsets: () => ({ topics: [] }),
      isRunning: () => !trouble.notRunning,
      isStale: () => trouble.staleAfterChunks !== undefined && resolvedHere >= trouble.staleAfterChunks,
    };
  }

  return {
    payloadOf,
    seek: (offset: bigint) => seeks.push(offset.toString()),
    holdCommits() {
      holdCommits = true;
    },
    /** Answers the oldest commit still waiting; false if none is. */
    answerCommit() {
      const answer = heldCommits.shift();
      answer?.();
      return answer !== undefined;
    },
    heldCommits: () => heldCommits.length,
    resolved,
    committed,
    seeks,
    heartbeats: () => heartbeats,
  };
}

/** A batch handler wired to fakes, and what they saw. */
function createRig(options: { trouble?: Trouble; storedBefore?: number; batchSize?: number } = {}) {
  const trouble = options.trouble ?? {};
  const postgres = fakePostgres(trouble, options.storedBefore);
  const kafka = fakeKafka(trouble);
  const metrics = createSinkMetrics();
  const status: SinkStatus = { connected: true, assignedPartitions: [PARTITION], waitingFor: undefined };
  const shutdown = new AbortController();
  const waits: Wait[] = [];
  const deadLetters: string[] = [];
  let registryOutagesLeft = trouble.registryDown ?? 0;
  let decodings = 0;
  const decoder: ChunkDecoder = {
    async decode(source, messages) {
      if (registryOutagesLeft-- > 0) {
        throw new DependencyUnavailableError(
          "schema registry",
          new Error("connect ECONNREFUSED 127.0.0.1:8081"),
        );
      }
      decodings++;
      // The tables as the sink looked them up before calgary's was dropped.
      return decodeFake(source, messages, ALL_TABLES);
    },
    async decideAgain(chunk, error) {
      const gone = trouble.tableDropped ? CALGARY_GONE : ALL_TABLES;
      if ((error as { code?: string }).code !== "23514" || gone === chunk.tables) return undefined;
      decodings++;
      return decodeFake(chunk.source, chunk.messages, gone);
    },
  };
  let refusalsLeft = trouble.deadLettersRefused ?? 0;

  const gauge = async () =>
    (await metrics.waitingFor.get()).values.find((v) => v.value === 1)?.labels.dependency?.toString();

  const sleep: Sleep = async (ms, signal) => {
    waits.push({ ms, waitingFor: status.waitingFor, gauge: await gauge(), heartbeats: kafka.heartbeats() });
    // An outage no case ends would otherwise spin here forever: give up, as an abort would.
    if (waits.length > MOST_WAITS) throw new Error(`still waiting after ${MOST_WAITS} waits`);
    if (waits.length !== trouble.stopDuringWait) return;
    // As the timers do: a wait ends early only by its signal's abort, which SIGTERM brings.
    const stopped = new Promise<void>((_, reject) =>
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true }),
    );
    shutdown.abort();
    await stopped;
  };

  const handler: BatchHandler = createBatchHandler({
    database: {
      current: () => ({}) as Sql,
      end: async () => {},
    },
    group: "pg-sink",
    batchSize: options.batchSize ?? 1_000,
    backoff: { initialMs: 100, maxMs: 400 },
    decoder,
    deadLetters: {
      async send(source, poison) {
        if (refusalsLeft-- > 0) {
          throw new DependencyUnavailableError(
            "Kafka",
            new Error("Kafka did not acknowledge the dead letters"),
          );
        }
        for (const p of poison)
          deadLetters.push(`${source.topic}[${source.partition}]@${p.message.offset}: ${p.poison.kind}`);
      },
    },
    seek: (_topic, _partition, offset) => kafka.seek(offset),
    metrics,
    logger: createLogger("batch-handler-test", { level: "silent" }),
    status,
    signal: shutdown.signal,
    writeChunk: postgres.writeChunk,
    // Full jitter off: each wait is the policy's step, so the table can show the backoff.
    waits: { sleep, random: () => 1 },
  });

  /** Hands the batches over one after another, as kafkajs does for one partition, until one throws. */
  async function handle(batches: readonly FetchedBatch[]): Promise<string> {
    for (const fetched of batches) {
      try {
        await handler(kafka.payloadOf(fetched));
      } catch (error) {
        return `threw: ${(error as Error).message}`;
      }
    }
    return "handled";
  }

  async function observe(outcome: string): Promise<Observed> {
    // As the sink does before it leaves the group.
    await handler.settleKafkaCommits();
    const duplicates = (await metrics.duplicatesSkipped.get()).values.reduce((sum, v) => sum + v.value, 0);
    return {
      outcome,
      storedNext: postgres.storedNext(),
      stored: postgres.stored(),
      resolved: kafka.resolved,
      committed: kafka.committed,
      seeks: kafka.seeks,
      deadLetters,
      waits,
      waitingForAfter: status.waitingFor,
      gaugeAfter: await gauge(),
      duplicates,
      decodings,
    };
  }

  return { handler, kafka, postgres, handle, observe };
}

interface Case {
  readonly name: string;
  /** The partition's stored next offset before, with readings r0.. below it already stored. */
  readonly storedBefore?: number;
  readonly batchSize?: number;
  readonly trouble?: Trouble;
  readonly batches: readonly FetchedBatch[];
  /** What is observed, beyond QUIET (no waits, no seeks, no dead letters, nothing thrown). */
  readonly expected: Partial<Observed> & Pick<Observed, "storedNext" | "stored" | "resolved" | "committed">;
}

/** A wait for `dependency`, with /readyz and weather_sink_waiting_for saying so. */
const waitFor = (dependency: Dependency, ms: number, heartbeats: number): Wait => ({
  ms,
  waitingFor: dependency,
  gauge: dependency,
  heartbeats,
});

/** PostgreSQL holds r0 to r<next - 1>, each once, and the offset after them. */
const storedUpTo = (next: number) => ({ storedNext: BigInt(next), stored: readings(0, next) });

/** r0 to r<next - 1> stored as one chunk: its last offset resolved, the offset after it committed. */
const storedInOneChunk = (next: number) => ({
  ...storedUpTo(next),
  resolved: [String(next - 1)],
  committed: [String(next)],
});

/** PostgreSQL was never written to. */
const NOTHING_STORED = { storedNext: undefined, stored: [], resolved: [], committed: [] };

const cases: readonly Case[] = [
  {
    name: "stores a batch chunk by chunk, resolving and committing each chunk only after its transaction",
    batchSize: 2,
    batches: [{ from: 0, values: readings(0, 5) }],
    expected: {
      ...storedUpTo(5),
      resolved: ["1", "3", "4"],
      committed: ["2", "4", "5"],
      decodings: 3,
    },
  },
  {
    name: "moves the stored offset past records kafkajs filtered out at the batch's end (transaction markers)",
    batches: [{ from: 0, values: readings(0, 2), lastOffset: 3 }],
    expected: { storedNext: 4n, stored: readings(0, 2), resolved: ["1"], committed: ["4"] },
  },
  {
    name: "waits out a PostgreSQL outage: the same chunk again with growing backoff, a heartbeat and a fresh pool before each wait, /readyz saying so until it is back",
    trouble: { postgresDown: 4 },
    batches: [{ from: 0, values: readings(0, 3) }],
    expected: {
      ...storedInOneChunk(3),
      waits: [
        waitFor("PostgreSQL", 100, 1),
        waitFor("PostgreSQL", 200, 2),
        waitFor("PostgreSQL", 400, 3),
        waitFor("PostgreSQL", 400, 4),
      ],
    },
  },
  {
    name: "waits out a schema registry outage the same way, keeping the PostgreSQL pool",
    trouble: { registryDown: 2 },
    batches: [{ from: 0, values: readings(0, 2) }],
    expected: {
      ...storedInOneChunk(2),
      waits: [waitFor("schema registry", 100, 1), waitFor("schema registry", 200, 2)],
    },
  },
  {
    name: "dead-letters poison with its source in the chunk that moves the offset past it, retrying the chunk while Kafka refuses the dead letters",
    trouble: { deadLettersRefused: 2 },
    batches: [{ from: 0, values: ["r0", POISON, "r2"] }],
    expected: {
      storedNext: 3n,
      stored: ["r0", "r2"],
      resolved: ["2"],
      committed: ["3"],
      deadLetters: [`${SOURCE}@1: undecodable`],
      waits: [waitFor("Kafka", 100, 1), waitFor("Kafka", 200, 2)],
    },
  },
  {
    name: "decides a chunk again at once when PostgreSQL says a city table it counted on was dropped: that city's readings dead-lettered as no-table, the rest stored",
    trouble: { tableDropped: true },
    batches: [{ from: 0, values: ["r0", `${CALGARY}r1`, POISON, "r3"] }],
    expected: {
      storedNext: 4n,
      stored: ["r0", "r3"],
      resolved: ["3"],
      committed: ["4"],
      deadLetters: [`${SOURCE}@1: no-table`, `${SOURCE}@2: undecodable`],
      decodings: 2,
    },
  },
  {
    name: "stores a reading the producer sent twice once, and counts the duplicate",
    batches: [{ from: 0, values: ["r0", "r1", "r0"] }],
    expected: { storedNext: 3n, stored: ["r0", "r1"], resolved: ["2"], committed: ["3"], duplicates: 1 },
  },
  {
    name: "drops the messages PostgreSQL already holds when a batch is fetched again from Kafka's older offset",
    storedBefore: 3,
    batches: [{ from: 0, values: readings(0, 5) }],
    expected: storedInOneChunk(5),
  },
  {
    name: "keeps going when Kafka refuses an offset commit: PostgreSQL holds the exact offset, and the re-fetch stores nothing twice",
    trouble: { kafkaCommitsFail: 1 },
    batches: [
      { from: 0, values: readings(0, 2) },
      // Kafka's committed offset never moved: a restarted consumer fetches from 0 again.
      { from: 0, values: readings(0, 4) },
    ],
    expected: { ...storedUpTo(4), resolved: ["1", "3"], committed: ["4"], decodings: 2 },
  },
  {
    name: "seeks back to the stored offset when a batch starts past it, storing nothing of that batch",
    storedBefore: 2,
    batches: [
      { from: 5, values: readings(5, 7) },
      { from: 2, values: readings(2, 7) },
    ],
    expected: { ...storedInOneChunk(7), seeks: ["2"], decodings: 2 },
  },
  {
    name: "accepts a hole in the log once the seek to the stored offset led past it, seeking only once",
    storedBefore: 2,
    batches: [
      { from: 5, values: readings(5, 7) },
      { from: 5, values: readings(5, 7) },
    ],
    expected: {
      storedNext: 7n,
      stored: [...readings(0, 2), ...readings(5, 7)],
      resolved: ["6"],
      committed: ["7"],
      seeks: ["2"],
      decodings: 2,
    },
  },
  {
    name: "stops at a stale batch (a seek or a revoke since the fetch), leaving its later chunks unresolved",
    batchSize: 2,
    trouble: { staleAfterChunks: 1 },
    batches: [{ from: 0, values: readings(0, 4) }],
    expected: { ...storedUpTo(2), resolved: ["1"], committed: ["2"] },
  },
  {
    name: "touches nothing once the consumer is stopping",
    trouble: { notRunning: true },
    batches: [{ from: 0, values: readings(0, 2) }],
    expected: { ...NOTHING_STORED, decodings: 0 },
  },
  {
    name: "gives the partition up when a rebalance takes it during an outage: nothing resolved, committed or lost",
    trouble: { postgresDown: Number.POSITIVE_INFINITY, rebalanceAtHeartbeat: 2 },
    batches: [{ from: 0, values: readings(0, 2) }],
    expected: {
      outcome: "threw: The group is rebalancing, so a rejoin is needed",
      ...NOTHING_STORED,
      waits: [waitFor("PostgreSQL", 100, 1)],
      // Still true: whoever gets the partition waits for the same PostgreSQL.
      waitingForAfter: "PostgreSQL",
      gaugeAfter: "PostgreSQL",
    },
  },
  {
    name: "returns at once when stopped during an outage, without resolving or committing: the chunk stays for the next owner",
    batchSize: 2,
    trouble: { postgresDown: Number.POSITIVE_INFINITY, stopDuringWait: 2 },
    batches: [{ from: 0, values: readings(0, 2) }],
    expected: {
      ...NOTHING_STORED,
      waits: [waitFor("PostgreSQL", 100, 1), waitFor("PostgreSQL", 200, 2)],
      waitingForAfter: "PostgreSQL",
      gaugeAfter: "PostgreSQL",
    },
  },
  {
    name: "propagates an error that is not an outage at once, without waiting or storing",
    trouble: { bug: true },
    batches: [{ from: 0, values: readings(0, 2) }],
    expected: {
      outcome: "threw: cannot read properties of undefined (reading 'city')",
      ...NOTHING_STORED,
    },
  },
];

describe("createBatchHandler", () => {
  it.each(cases)("$name", async ({ trouble, storedBefore, batchSize, batches, expected }) => {
    const rig = createRig({
      ...(trouble && { trouble }),
      ...(storedBefore !== undefined && { storedBefore }),
      ...(batchSize !== undefined && { batchSize }),
    });
    const outcome = await rig.handle(batches);
    expect(await rig.observe(outcome)).toEqual({ ...QUIET, ...expected });
  });

  it("sends a partition's Kafka commits one at a time, in offset order, without holding up the next chunk", async () => {
    const rig = createRig({ batchSize: 2 });
    rig.kafka.holdCommits();
    // Returns with every chunk stored and resolved while the first commit is still unanswered.
    await rig.handler(rig.kafka.payloadOf({ from: 0, values: readings(0, 6) }));
    expect(rig.kafka.resolved).toEqual(["1", "3", "5"]);
    const unansweredAtOnce: number[] = [];
    for (let i = 0; i < 3; i++) {
      await flushPromises();
      unansweredAtOnce.push(rig.kafka.heldCommits());
      rig.kafka.answerCommit();
    }
    await rig.handler.settleKafkaCommits();
    expect(unansweredAtOnce).toEqual([1, 1, 1]);
    expect(rig.kafka.committed).toEqual(["2", "4", "6"]);
  });

  it("when stopped during an outage, returns only once Kafka answered the commits already sent (the group is left next)", async () => {
    const rig = createRig({ batchSize: 2, trouble: { stopDuringWait: 1 } });
    rig.kafka.holdCommits();
    await rig.handler(rig.kafka.payloadOf({ from: 0, values: readings(0, 2) }));
    rig.postgres.goDown();
    let returned = false;
    const handling = rig.handler(rig.kafka.payloadOf({ from: 2, values: readings(2, 4) })).then(() => {
      returned = true;
    });
    await flushPromises();
    expect(returned).toBe(false);
    rig.kafka.answerCommit();
    await handling;
    expect(rig.kafka.committed).toEqual(["2"]);
    expect(rig.kafka.resolved).toEqual(["1"]);
    expect(rig.postgres.storedNext()).toBe(2n);
  });
});

/** Lets every promise callback already queued run. */
function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
