import { defineSettingsGroup, setting } from "@weather/settings";
import { z } from "zod";

/** The topic readings travel on unless READINGS_TOPIC names another. */
export const DEFAULT_READINGS_TOPIC = "weather.readings";

/** Messages the sink cannot store go here, next to the topic they came from. */
export function deadLetterTopicOf(readingsTopic: string): string {
  return `${readingsTopic}.dlq`;
}

/** The consumer group pg-sink stores the readings topic in unless SINK_GROUP_ID names another. */
export const DEFAULT_SINK_GROUP_ID = "pg-sink";

/**
 * The sink's consumer group: the sink consumes in it, the dashboard watches its lag and members,
 * the report's --verify checks its stored offsets. Its value is the group id.
 */
export const SINK_GROUP = defineSettingsGroup({
  title: "Sink consumer group",
  settings: {
    id: setting({
      env: "SINK_GROUP_ID",
      value: "GROUP",
      description: "the sink's consumer group; its progress is stored in PostgreSQL's consumer_offsets",
      default: DEFAULT_SINK_GROUP_ID,
      schema: z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9._-]{1,249}$/, "must be 1-249 letters, digits, '.', '_' or '-'"),
    }),
  },
  read: ({ id }) => id,
});

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

/** Kafka's own rules for a topic name, checked once, here. */
const topicNameSchema = z
  .string()
  .trim()
  .refine(
    (topic) => /^[A-Za-z0-9._-]{1,249}$/.test(topic) && topic !== "." && topic !== "..",
    "is not a valid Kafka topic name: use 1-249 letters, digits, '.', '_' or '-'",
  );

/** The readings topic, and the dead-letter topic beside it. */
export interface ReadingsTopics {
  readonly readings: string;
  /** deadLetterTopicOf(readings). */
  readonly deadLetters: string;
}

/** Which topic readings travel on; its value names the dead-letter topic too. */
export const READINGS_TOPICS = defineSettingsGroup({
  title: "Readings topic",
  settings: {
    readings: setting({
      env: "READINGS_TOPIC",
      flag: "topic",
      value: "TOPIC",
      description: "the readings topic; dead letters go to <topic>.dlq",
      default: DEFAULT_READINGS_TOPIC,
      schema: topicNameSchema,
    }),
  },
  read: ({ readings }): ReadingsTopics =>
    Object.freeze({ readings, deadLetters: deadLetterTopicOf(readings) }),
});

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
