import { DEAD_LETTER_HEADERS } from "@weather/schema";
import { DependencyUnavailableError, within } from "@weather/service-kit";
import {
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  type Message,
  Partitioners,
  type Producer,
} from "kafkajs";
import { connectToKafka } from "./connect-to-kafka.ts";
import type { TopicPartition } from "./offsets.ts";
import type { Poison, PoisonMessage } from "./poison.ts";

/**
 * The dead letter of `original`: its key, value and headers untouched, so it can be replayed
 * as-is once fixed, plus headers saying what was wrong and where it came from.
 */
export function buildDeadLetter(
  original: Pick<KafkaMessage, "key" | "value" | "headers" | "offset" | "timestamp">,
  source: TopicPartition,
  poison: Poison,
  now: Date,
): Message {
  const headers: IHeaders = {
    ...original.headers,
    [DEAD_LETTER_HEADERS.errorClass]: poison.errorClass,
    [DEAD_LETTER_HEADERS.errorKind]: poison.kind,
    [DEAD_LETTER_HEADERS.errorMessage]: poison.message,
    [DEAD_LETTER_HEADERS.sourceTopic]: source.topic,
    [DEAD_LETTER_HEADERS.sourcePartition]: String(source.partition),
    [DEAD_LETTER_HEADERS.sourceOffset]: original.offset,
    [DEAD_LETTER_HEADERS.sourceTimestamp]: original.timestamp,
    [DEAD_LETTER_HEADERS.failedAt]: now.toISOString(),
  };
  return { key: original.key, value: original.value, headers };
}

/**
 * Sends dead letters and resolves once every in-sync replica has them (acks -1), so the caller may
 * then move the stored offset past them. The producer must be idempotent: a retried send after a
 * lost acknowledgement then does not write the letter twice.
 */
export async function sendDeadLetters(
  producer: Producer,
  deadLetterTopic: string,
  letters: readonly Message[],
  timeoutMs = DEAD_LETTER_SEND_TIMEOUT_MS,
): Promise<void> {
  if (letters.length === 0) return;
  await within(
    producer.send({ topic: deadLetterTopic, messages: [...letters], acks: -1 }),
    timeoutMs,
    () =>
      new Error(
        `Kafka did not acknowledge ${letters.length} dead letters to ${deadLetterTopic} within ${timeoutMs} ms`,
      ),
  );
}

/**
 * The dead-letter producer retries without a count, as an idempotent producer should (see
 * sensor-producer's readings-producer.ts); a send still unacknowledged after this long counts as a Kafka
 * outage, which the sink waits out, heartbeating, before sending again. A letter the abandoned
 * send still delivers is then there twice: dead letters are at least once, rows exactly once.
 */
export const DEAD_LETTER_SEND_TIMEOUT_MS = 30_000;

/**
 * Step 3: where the poison of a chunk goes. The sink's one producer, to <topic>.dlq, shared by
 * every partition; writeChunk's transaction waits for `send` before COMMIT, so the stored offset
 * never passes a message that is neither stored nor dead-lettered.
 */
export interface DeadLetterSender {
  /**
   * Sends the dead letters of `poison`, messages of `source`, and resolves once Kafka has them all.
   * @throws DependencyUnavailableError while Kafka refuses or does not answer.
   */
  send(source: TopicPartition, poison: readonly PoisonMessage[]): Promise<void>;
  close(): Promise<void>;
}

export async function openDeadLetterSender(
  kafka: Kafka,
  deadLetterTopic: string,
  brokers: readonly string[],
): Promise<DeadLetterSender> {
  // Idempotent, so a send retried after a lost acknowledgement does not write a dead letter twice.
  const producer = kafka.producer({
    idempotent: true,
    // No count (see sendDeadLetters for what bounds a send instead).
    retry: { retries: Number.MAX_SAFE_INTEGER },
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Dead letters keep their original key; which DLQ partition it hashes to does not matter.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await connectToKafka(producer, brokers);
  return {
    async send(source, poison) {
      const now = new Date();
      const letters = poison.map((p) => buildDeadLetter(p.message, source, p.poison, now));
      try {
        await sendDeadLetters(producer, deadLetterTopic, letters);
      } catch (error) {
        throw new DependencyUnavailableError("Kafka", error);
      }
    },
    close: () => producer.disconnect(),
  };
}
