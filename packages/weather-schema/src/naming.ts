import { ConfigError, type ConfigProblem, type Env, readSettings, setting } from "@weather/settings";
import { z } from "zod";

/** The topic readings travel on unless READINGS_TOPIC names another. */
export const DEFAULT_READINGS_TOPIC = "weather.readings";

/** Messages the sink cannot store go here, next to the topic they came from. */
export function deadLetterTopicOf(readingsTopic: string): string {
  return `${readingsTopic}.dlq`;
}

/** The registry subject of a topic's message values (Confluent's TopicNameStrategy). */
export function valueSubjectOf(topic: string): string {
  return `${topic}-value`;
}

/** Kafka's own rules for a topic name, checked once, here. */
export const topicNameSchema = z
  .string()
  .trim()
  .refine(
    (topic) => /^[A-Za-z0-9._-]{1,249}$/.test(topic) && topic !== "." && topic !== "..",
    "is not a valid Kafka topic name: use 1-249 letters, digits, '.', '_' or '-'",
  );

export const TOPIC_SETTINGS = Object.freeze({
  readingsTopic: setting({
    env: "READINGS_TOPIC",
    flag: "topic",
    value: "TOPIC",
    description: "the readings topic; dead letters go to <topic>.dlq",
    default: DEFAULT_READINGS_TOPIC,
    schema: topicNameSchema,
  }),
});

/** READINGS_TOPIC, or the default. @throws ConfigError when it is not a valid topic name. */
export function readingsTopicFrom(env: Env): string {
  const problems: ConfigProblem[] = [];
  const { readingsTopic } = readSettings(TOPIC_SETTINGS, { env }, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return readingsTopic;
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
