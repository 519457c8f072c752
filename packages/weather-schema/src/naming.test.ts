import { configurationOf } from "@weather/settings";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_READINGS_TOPIC,
  deadLetterTopicOf,
  jsonValueSubjectOf,
  READINGS_TOPICS,
  valueSubjectOf,
} from "./naming.ts";

const topicsOf = (env: Record<string, string>, argv: string[] = []) =>
  configurationOf({ groups: { topics: READINGS_TOPICS } }, env, argv).topics;

describe("topic naming", () => {
  it("puts dead letters on <topic>.dlq", () => {
    expect(deadLetterTopicOf(DEFAULT_READINGS_TOPIC)).toBe("weather.readings.dlq");
  });

  it("names the value subject after the topic, as Confluent's TopicNameStrategy does", () => {
    expect(valueSubjectOf("weather.readings")).toBe("weather.readings-value");
  });
});

describe("the readings topic group", () => {
  it("defaults to weather.readings and accepts a valid name, with its dead-letter topic beside it", () => {
    expect(topicsOf({})).toEqual({ readings: DEFAULT_READINGS_TOPIC, deadLetters: "weather.readings.dlq" });
    expect(topicsOf({ READINGS_TOPIC: "lab.readings_v2" }).readings).toBe("lab.readings_v2");
    expect(topicsOf({ READINGS_TOPIC: "lab.a" }, ["--topic", "lab.b"]).deadLetters).toBe("lab.b.dlq");
  });

  it("rejects a name Kafka would refuse, saying which variable is wrong", () => {
    expect(() => topicsOf({ READINGS_TOPIC: "weather readings" })).toThrow(/READINGS_TOPIC/);
  });
});

describe("jsonValueSubjectOf", () => {
  it("keeps JSON Schema out of the Avro subject", () => {
    expect(jsonValueSubjectOf("weather.readings")).toBe("weather.readings-json-value");
    expect(jsonValueSubjectOf("weather.readings")).not.toBe(valueSubjectOf("weather.readings"));
  });
});
