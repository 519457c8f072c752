import { performance } from "node:perf_hooks";
import { DependencyUnavailableError, type Logger } from "@weather/service-kit";
import type { EachBatchPayload, KafkaMessage } from "kafkajs";
import { type BackoffPolicy, type RetryOptions, retryWithBackoff } from "./backoff.ts";
import type { DatabasePool } from "./database.ts";
import type { DeadLetterSender } from "./dead-letter.ts";
import type { ChunkDecoder, DecodedChunk } from "./decode-chunk.ts";
import type { SinkMetrics } from "./metrics.ts";
import { nextOffsetAfter, type PartitionKey } from "./offsets.ts";
import { isTransientDatabaseError } from "./outage.ts";
import type { PoisonMessage } from "./poison.ts";
import type { SinkStatus } from "./status.ts";
import { type ChunkWritten, writeChunk } from "./write-chunk.ts";

export interface BatchHandlerDeps {
  readonly database: DatabasePool;
  readonly group: string;
  readonly batchSize: number;
  readonly backoff: BackoffPolicy;
  /** Step 1: what each message of a chunk is, a row or poison (createChunkDecoder). */
  readonly decoder: ChunkDecoder;
  /** Step 3: where the poison goes, before the chunk's transaction commits. */
  readonly deadLetters: Pick<DeadLetterSender, "send">;
  readonly seek: (topic: string, partition: number, offset: bigint) => void;
  readonly metrics: SinkMetrics;
  readonly logger: Logger;
  readonly status: SinkStatus;
  /** Aborted on shutdown: stops waiting for an outage to end. */
  readonly signal: AbortSignal;
  /** Step 2: stores one chunk in one transaction: writeChunk, unless a test stands in for PostgreSQL. */
  readonly writeChunk?: typeof writeChunk;
  /** How retries wait and jitter: the timers and Math.random, unless a test drives the waits. */
  readonly waits?: Pick<RetryOptions, "sleep" | "random">;
}

/** Splits a fetched batch into transactions of at most `size` messages, in offset order. */
export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

function partitionIdOf({ topic, partition }: PartitionKey): string {
  return `${topic}[${partition}]`;
}

function asOutage(error: unknown): unknown {
  if (error instanceof DependencyUnavailableError) return error;
  return isTransientDatabaseError(error) ? new DependencyUnavailableError("PostgreSQL", error) : error;
}

export interface BatchHandler {
  (payload: EachBatchPayload): Promise<void>;
  /** Resolves once every offset commit sent to Kafka so far is answered (before leaving the group). */
  settleKafkaCommits(): Promise<void>;
}

/**
 * kafkajs's eachBatch for the sink. Each chunk of a fetched batch goes through the three steps:
 * decoded (deps.decoder), written in one transaction (writeChunk), its poison routed to the
 * dead-letter topic (deps.deadLetters) before that transaction commits. Only then is its last
 * offset resolved and committed to Kafka (for lag tools; the offset stored in PostgreSQL stays the
 * truth). An outage holds the chunk, heartbeating while it waits, and retries it unchanged; a
 * chunk that is never stored is never resolved, so kafkajs fetches it again.
 *
 * The Kafka commit is not waited for: kafkajs fetches again only once every partition's batch is
 * handled, and waiting for the broker's answer (several ms) kept PostgreSQL idle for that long
 * after every batch. Commits of a partition are chained, so they reach Kafka in order, and the
 * sink settles them before it leaves the group.
 */
export function createBatchHandler(deps: BatchHandlerDeps): BatchHandler {
  const { logger, metrics, status } = deps;
  const write = deps.writeChunk ?? writeChunk;
  // Offset each partition was last sought to, so a hole in the log triggers one seek, not a loop.
  const soughtTo = new Map<string, bigint>();
  // The last offset commit sent to Kafka per partition, until it is answered.
  const kafkaCommits = new Map<string, Promise<void>>();

  function commitToKafka(payload: EachBatchPayload, partitionId: string, nextOffset: bigint): void {
    const { batch } = payload;
    const commit = (kafkaCommits.get(partitionId) ?? Promise.resolve())
      .then(() =>
        payload.commitOffsetsIfNecessary({
          topics: [
            {
              topic: batch.topic,
              partitions: [{ partition: batch.partition, offset: nextOffset.toString() }],
            },
          ],
        }),
      )
      .catch((error: unknown) => {
        // Kafka's committed offset only feeds lag tools; the next commit or PostgreSQL covers it.
        logger.warn(
          { partition: partitionId, err: error },
          "could not commit the offset to Kafka; PostgreSQL has it",
        );
      });
    kafkaCommits.set(partitionId, commit);
    void commit.finally(() => {
      if (kafkaCommits.get(partitionId) === commit) kafkaCommits.delete(partitionId);
    });
  }

  async function settleKafkaCommits(): Promise<void> {
    await Promise.all(kafkaCommits.values());
  }

  async function handleBatch(payload: EachBatchPayload): Promise<void> {
    try {
      await storeBatch(payload);
    } finally {
      // Stopping: kafkajs leaves the group once this returns, and a commit answered after that is
      // refused. So the commits already sent are waited for here.
      if (deps.signal.aborted || !payload.isRunning()) await settleKafkaCommits();
    }
  }

  /**
   * Steps 1 to 3 for one chunk, as one attempt to retry. The chunk is decoded once and kept across
   * attempts, unless PostgreSQL says a city table it counted on is gone: then it is decided again
   * and written again at once.
   */
  function chunkStorer(
    key: PartitionKey,
    messages: readonly KafkaMessage[],
    nextOffset: bigint,
  ): () => Promise<ChunkWritten> {
    let decided: DecodedChunk | undefined;
    const routePoison = (poison: readonly PoisonMessage[]) => deps.deadLetters.send(key, poison);
    return async () => {
      decided ??= await deps.decoder.decode(key, messages);
      const soughtFrom = soughtTo.get(partitionIdOf(key));
      for (;;) {
        const chunk: DecodedChunk = decided;
        try {
          return await write(
            deps.database.current(),
            { key, chunk, nextOffset, soughtTo: soughtFrom },
            routePoison,
          );
        } catch (error) {
          const again = await deps.decoder.decideAgain(chunk, error);
          if (again === undefined) throw error;
          decided = again;
        }
      }
    };
  }

  async function storeBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const key: PartitionKey = { group: deps.group, topic: batch.topic, partition: batch.partition };
    const partitionId = partitionIdOf(key);
    const retry: RetryOptions = {
      ...deps.waits,
      policy: deps.backoff,
      signal: deps.signal,
      isTransient: (error) => error instanceof DependencyUnavailableError,
      onRetry: async (error, attempt, delayMs) => {
        const outage = error as DependencyUnavailableError;
        if (status.waitingFor !== outage.dependency) metrics.waitingFor.reset();
        status.waitingFor = outage.dependency;
        metrics.waitingFor.set({ dependency: outage.dependency }, 1);
        logger.warn(
          {
            waitingFor: outage.dependency,
            partition: partitionId,
            attempt: attempt + 1,
            retryInMs: delayMs,
            err: outage.cause,
          },
          `waiting for ${outage.dependency}; holding ${partitionId} from offset ${batch.messages[0]?.offset}, nothing is skipped`,
        );
        // Keeps the group membership alive while waiting; throws if a rebalance took the partition.
        await payload.heartbeat();
        if (!payload.isRunning()) throw error;
      },
      onRecovered: (attempts) => {
        if (status.waitingFor !== undefined)
          logger.info({ after: attempts }, `${status.waitingFor} is back; resuming`);
        status.waitingFor = undefined;
        metrics.waitingFor.reset();
      },
    };

    const chunks = chunksOf(batch.messages, deps.batchSize);
    for (const [index, messages] of chunks.entries()) {
      const last = messages.at(-1);
      if (last === undefined || !payload.isRunning() || payload.isStale()) return;
      const started = performance.now();
      const nextOffset = nextOffsetAfter(
        last.offset,
        index === chunks.length - 1 ? batch.lastOffset() : undefined,
      );

      let written: ChunkWritten;
      const store = chunkStorer(key, messages, nextOffset);
      try {
        written = await retryWithBackoff(
          () =>
            store().catch((error: unknown) => {
              throw asOutage(error);
            }),
          retry,
        );
      } catch (error) {
        // Shutting down during an outage: abandon the chunk unresolved; whoever owns the partition
        // next starts from the stored offset.
        if (deps.signal.aborted || !payload.isRunning()) return;
        throw error;
      }

      if (written.kind === "seek") {
        soughtTo.set(partitionId, written.offset);
        logger.warn(
          {
            partition: partitionId,
            firstOffset: messages[0]?.offset,
            storedOffset: written.offset.toString(),
          },
          `${partitionId} fetched past the offset stored in PostgreSQL; seeking back to ${written.offset}`,
        );
        deps.seek(batch.topic, batch.partition, written.offset);
        return;
      }

      payload.resolveOffset(last.offset);
      commitToKafka(payload, partitionId, written.nextOffset);

      metrics.messagesConsumed.inc(
        { topic: batch.topic, partition: String(batch.partition) },
        messages.length,
      );
      metrics.rowsWritten.inc({ topic: batch.topic }, written.rowsWritten);
      if (written.duplicates > 0) metrics.duplicatesSkipped.inc({ topic: batch.topic }, written.duplicates);
      for (const { poison, message } of written.poison) {
        metrics.deadLettered.inc({ topic: batch.topic, reason: poison.kind });
        logger.warn(
          { partition: partitionId, offset: message.offset, reason: poison.kind, error: poison.message },
          `dead-lettered ${partitionId}@${message.offset}: ${poison.kind}`,
        );
      }
      metrics.chunkMessages.observe(messages.length);
      metrics.chunkDuration.observe((performance.now() - started) / 1000);
      const lag = BigInt(batch.highWatermark) - written.nextOffset;
      metrics.partitionLag.set(
        { topic: batch.topic, partition: String(batch.partition) },
        Number(lag > 0n ? lag : 0n),
      );
      logger.debug(
        {
          partition: partitionId,
          messages: messages.length,
          rows: written.rowsWritten,
          alreadyStored: written.alreadyStored,
          nextOffset: written.nextOffset.toString(),
        },
        "chunk stored",
      );
      await payload.heartbeat();
    }
  }

  return Object.assign(handleBatch, { settleKafkaCommits });
}
