/** The topic readings travel on unless READINGS_TOPIC names another. */
export const DEFAULT_READINGS_TOPIC = "weather.readings";

/** Messages the sink cannot store go here, next to the topic they came from. */
export function deadLetterTopicOf(readingsTopic: string): string {
  return `${readingsTopic}.dlq`;
}

/** The consumer group pg-sink stores the readings topic in unless SINK_GROUP_ID names another. */
export const DEFAULT_SINK_GROUP_ID = "pg-sink";

/**
 * Headers the sink adds to a dead letter (the original message's own headers are kept beside them):
 * what was wrong (class, a short stable kind, the message) and where it came from. Readers of the
 * dead-letter topic (operators, the dashboard) filter and group on them.
 */
export const DEAD_LETTER_HEADERS = Object.freeze({
  errorClass: "dlq.error.class",
  errorKind: "dlq.error.kind",
  errorMessage: "dlq.error.message",
  sourceTopic: "dlq.source.topic",
  sourcePartition: "dlq.source.partition",
  sourceOffset: "dlq.source.offset",
  sourceTimestamp: "dlq.source.timestamp",
  failedAt: "dlq.failed.at",
});

/** The registry subject of a topic's message values (Confluent's TopicNameStrategy). */
export function valueSubjectOf(topic: string): string {
  return `${topic}-value`;
}

/** READINGS_TOPIC, or the default; Kafka's own rules for a topic name are checked here, once. */
export function readingsTopicFrom(env: Readonly<Record<string, string | undefined>>): string {
  const topic = env.READINGS_TOPIC?.trim() || DEFAULT_READINGS_TOPIC;
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic) || topic === "." || topic === "..") {
    throw new Error(
      `READINGS_TOPIC "${topic}" is not a valid Kafka topic name: use 1-249 letters, digits, '.', '_' or '-'`,
    );
  }
  return topic;
}

/**
 * The registry subject of a topic's JSON-encoded values. JSON Schema cannot share `${topic}-value`
 * with the Avro schema: a subject's versions are checked for compatibility against each other, and
 * the registry cannot compare a JSON Schema with an Avro schema (Apicurio answers 500 "unknown type
 * [record]"). A JSON producer therefore registers under its own subject; consumers do not care,
 * since they find the writer schema by the id in each message.
 */
export function jsonValueSubjectOf(topic: string): string {
  return `${topic}-json-value`;
}
