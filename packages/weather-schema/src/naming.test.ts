import { describe, expect, it } from "vitest";
import {
  DEFAULT_READINGS_TOPIC,
  deadLetterTopicOf,
  jsonValueSubjectOf,
  readingsTopicFrom,
  valueSubjectOf,
} from "./naming.ts";

describe("topic naming", () => {
  it("puts dead letters on <topic>.dlq", () => {
    expect(deadLetterTopicOf(DEFAULT_READINGS_TOPIC)).toBe("weather.readings.dlq");
  });

  it("names the value subject after the topic, as Confluent's TopicNameStrategy does", () => {
    expect(valueSubjectOf("weather.readings")).toBe("weather.readings-value");
  });
});

describe("readingsTopicFrom", () => {
  it("defaults to weather.readings and accepts a valid name", () => {
    expect(readingsTopicFrom({})).toBe(DEFAULT_READINGS_TOPIC);
    expect(readingsTopicFrom({ READINGS_TOPIC: "lab.readings_v2" })).toBe("lab.readings_v2");
  });

  it("rejects a name Kafka would refuse, saying which variable is wrong", () => {
    expect(() => readingsTopicFrom({ READINGS_TOPIC: "weather readings" })).toThrow(/READINGS_TOPIC/);
  });
});

describe("jsonValueSubjectOf", () => {
  it("keeps JSON Schema out of the Avro subject", () => {
    expect(jsonValueSubjectOf("weather.readings")).toBe("weather.readings-json-value");
    expect(jsonValueSubjectOf("weather.readings")).not.toBe(valueSubjectOf("weather.readings"));
  });
});
