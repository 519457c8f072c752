export { DEFAULT_READINGS_TOPIC, deadLetterTopicOf, readingsTopicFrom, valueSubjectOf } from "./topics.ts";
