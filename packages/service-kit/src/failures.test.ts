import { createRequire } from "node:module";
import {
  KafkaJSBrokerNotFound,
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
  KafkaJSTimeout,
} from "kafkajs";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { DependencyUnavailableError } from "./errors.ts";
import { asDependencyFailure, classifyFailure, dependencyOf, type FailureKind } from "./failures.ts";

/** A kafkajs error built as kafkajs's own code builds it (its type declarations list fewer arguments). */
function make<T extends Error>(Class: abstract new (...args: never[]) => T, ...args: unknown[]): T {
  return new (Class as unknown as new (...args: unknown[]) => T)(...args);
}

/** An error as PostgreSQL sends it, through postgres.js's own class. */
function sqlstate(code: string, fields: Record<string, string> = {}): Error {
  const PostgresError = postgres.PostgresError as unknown as new (fields: object) => Error;
  return new PostgresError({ code, message: `SQLSTATE ${code}`, severity: "ERROR", ...fields });
}

/** A socket or driver error as Node and postgres.js raise it: an Error with a code. */
function coded(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
}

/** kafkajs's protocol error of a type, with the `retriable` flag kafkajs's own table gives it. */
const { errorCodes } = createRequire(import.meta.url)("kafkajs/src/protocol/error") as {
  errorCodes: { type: string; code: number; retriable: boolean; message: string }[];
};
function protocolError(type: string): KafkaJSProtocolError {
  const entry = errorCodes.find((e) => e.type === type);
  if (entry === undefined) throw new Error(`kafkajs has no protocol error ${type}`);
  return make(KafkaJSProtocolError, entry);
}

function kindOf(dependency: Parameters<typeof classifyFailure>[0], error: unknown): FailureKind {
  return classifyFailure(dependency, error).kind;
}

describe("classifyFailure: PostgreSQL", () => {
  const table: [string, FailureKind][] = [
    ["08000", "outage"], // connection_exception
    ["08006", "outage"], // connection_failure
    ["08P01", "outage"], // protocol_violation
    ["40001", "outage"], // serialization_failure
    ["40P01", "outage"], // deadlock_detected
    ["53300", "outage"], // too_many_connections
    ["53100", "outage"], // disk_full
    ["57014", "outage"], // query_canceled
    ["57P01", "outage"], // admin_shutdown (pg_terminate_backend)
    ["57P02", "outage"], // crash_shutdown
    ["57P03", "outage"], // cannot_connect_now (starting up)
    ["58030", "outage"], // io_error
    ["25006", "outage"], // read_only_sql_transaction: a failover under way
    ["28000", "refused"], // invalid_authorization_specification (no such role)
    ["28P01", "refused"], // invalid_password
    ["42501", "refused"], // insufficient_privilege
    ["3D000", "missing"], // invalid_catalog_name: database not created yet
    ["42P01", "missing"], // undefined_table: not migrated yet
    ["22P02", "other"], // invalid_text_representation
    ["23505", "other"], // unique_violation
    ["42703", "other"], // undefined_column
    ["25P02", "other"], // in_failed_sql_transaction
  ];
  it.each(table)("SQLSTATE %s is %s", (code, kind) => {
    const failure = classifyFailure("PostgreSQL", sqlstate(code));
    expect(failure).toMatchObject({ dependency: "PostgreSQL", kind, code });
    expect(failure.hint).not.toBe("");
  });

  it("calls a row with no partition for it missing, and a CHECK constraint's refusal bad data", () => {
    expect(kindOf("PostgreSQL", sqlstate("23514", { table_name: "weather_readings_winnipeg" }))).toBe(
      "missing",
    );
    expect(kindOf("PostgreSQL", sqlstate("23514", { constraint_name: "plausible_temperature" }))).toBe(
      "other",
    );
  });

  it.each([
    "ECONNREFUSED",
    "ECONNRESET",
    "EPIPE",
    "ETIMEDOUT",
    "ENOTFOUND",
    "EAI_AGAIN",
    "EHOSTUNREACH",
    "CONNECTION_CLOSED",
    "CONNECTION_ENDED",
    "CONNECTION_DESTROYED",
    "CONNECT_TIMEOUT",
  ])("waits out a broken or refused connection: %s", (code) => {
    expect(classifyFailure("PostgreSQL", coded(code))).toMatchObject({ kind: "outage", code });
  });

  it.each([
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "CERT_HAS_EXPIRED",
    "ERR_TLS_CERT_ALTNAME_INVALID",
  ])("calls a certificate it does not trust a refusal: %s", (code) => {
    const failure = classifyFailure("PostgreSQL", coded(code));
    expect(failure).toMatchObject({ kind: "refused", code });
    expect(failure.hint).toMatch(/DATABASE_SSL_CA_FILE/);
  });

  it("reads the code through causes and aggregates, and never the message or the stack", () => {
    const wrapped = new Error("cannot migrate", { cause: sqlstate("57P01") });
    expect(classifyFailure("PostgreSQL", wrapped)).toMatchObject({ kind: "outage", code: "57P01" });
    const both = new AggregateError([coded("ECONNREFUSED"), coded("ECONNREFUSED")], "");
    expect(kindOf("PostgreSQL", both)).toBe("outage");
    const lookalike = new TypeError("Cannot read properties of null (reading 'write'): ECONNRESET 57P01");
    lookalike.stack = "at nextWrite (node_modules/postgres/src/connection.js:255:22)";
    expect(classifyFailure("PostgreSQL", lookalike)).toMatchObject({ kind: "other", code: undefined });
    expect(kindOf("PostgreSQL", coded("EPERM"))).toBe("other");
    for (const value of [null, undefined, "57P01", 42]) expect(kindOf("PostgreSQL", value)).toBe("other");
  });
});

describe("classifyFailure: Kafka, on kafkajs's own error classes", () => {
  it("waits out connections, timeouts and retries that ran out", () => {
    const refused = make(KafkaJSConnectionError, "Connection error: connect ECONNREFUSED", {
      broker: "127.0.0.1:9092",
      code: "ECONNREFUSED",
    });
    expect(classifyFailure("Kafka", refused)).toMatchObject({ kind: "outage", code: "ECONNREFUSED" });
    expect(kindOf("Kafka", make(KafkaJSConnectionError, "Connection timeout"))).toBe("outage");
    const exhausted = make(KafkaJSNumberOfRetriesExceeded, refused, { retryCount: 5, retryTime: 3000 });
    expect(classifyFailure("Kafka", exhausted)).toMatchObject({ kind: "outage", code: "ECONNREFUSED" });
    const exhaustedOnLeader = make(KafkaJSNumberOfRetriesExceeded, protocolError("LEADER_NOT_AVAILABLE"), {
      retryCount: 5,
      retryTime: 3000,
    });
    expect(kindOf("Kafka", exhaustedOnLeader)).toBe("outage");
    expect(kindOf("Kafka", make(KafkaJSRequestTimeoutError, "Request Metadata(key: 3) timed out"))).toBe(
      "outage",
    );
    expect(kindOf("Kafka", make(KafkaJSBrokerNotFound, "Broker 2 not found"))).toBe("outage");
    expect(kindOf("Kafka", make(KafkaJSGroupCoordinatorNotFound, "no coordinator"))).toBe("outage");
    expect(kindOf("Kafka", make(KafkaJSTimeout, "Timeout while acquiring lock"))).toBe("outage");
  });

  it.each([
    "LEADER_NOT_AVAILABLE",
    "NOT_LEADER_FOR_PARTITION",
    "REQUEST_TIMED_OUT",
    "GROUP_LOAD_IN_PROGRESS",
    "GROUP_COORDINATOR_NOT_AVAILABLE",
    "NOT_COORDINATOR_FOR_GROUP",
    "NOT_ENOUGH_REPLICAS",
    "NOT_CONTROLLER",
  ])("follows kafkajs's retriable flag: %s is an outage", (type) => {
    expect(classifyFailure("Kafka", protocolError(type))).toMatchObject({ kind: "outage", code: type });
  });

  it.each([
    ["SASL_AUTHENTICATION_FAILED", "refused"],
    ["TOPIC_AUTHORIZATION_FAILED", "refused"],
    ["GROUP_AUTHORIZATION_FAILED", "refused"],
    ["CLUSTER_AUTHORIZATION_FAILED", "refused"],
    ["UNKNOWN_TOPIC_OR_PARTITION", "missing"],
    ["INVALID_REQUEST", "other"],
    // kafkajs rejoins the group itself, and marks it not retriable.
    ["REBALANCE_IN_PROGRESS", "other"],
    ["POLICY_VIOLATION", "other"],
  ] as const)("protocol error %s is %s", (type, kind) => {
    expect(classifyFailure("Kafka", protocolError(type))).toMatchObject({ kind, code: type });
  });

  it("calls refused credentials and an untrusted certificate refusals, however deep kafkajs wraps them", () => {
    const sasl = make(KafkaJSSASLAuthenticationError, "SASL SCRAM SHA512 authentication failed");
    expect(classifyFailure("Kafka", sasl).kind).toBe("refused");
    expect(classifyFailure("Kafka", sasl).hint).toMatch(/KAFKA_SASL_USERNAME/);
    expect(kindOf("Kafka", make(KafkaJSNonRetriableError, sasl, { cause: sasl }))).toBe("refused");
    const untrusted = make(
      KafkaJSConnectionError,
      "Connection error: self-signed certificate in certificate chain",
      {
        broker: "127.0.0.1:9094",
        code: "SELF_SIGNED_CERT_IN_CHAIN",
      },
    );
    const exhausted = make(KafkaJSNumberOfRetriesExceeded, untrusted, { retryCount: 5, retryTime: 3000 });
    expect(classifyFailure("Kafka", exhausted)).toMatchObject({
      kind: "refused",
      code: "SELF_SIGNED_CERT_IN_CHAIN",
    });
    expect(classifyFailure("Kafka", exhausted).hint).toMatch(/KAFKA_SSL_CA_FILE/);
  });

  it("keeps kafkajs's errors it does not retry, and plain bugs, as other", () => {
    expect(kindOf("Kafka", make(KafkaJSNonRetriableError, "Invalid partitioner"))).toBe("other");
    expect(kindOf("Kafka", make(KafkaJSError, "retriable by default", { retriable: false }))).toBe("other");
    expect(kindOf("Kafka", new TypeError("x is not a function"))).toBe("other");
  });
});

describe("classifyFailure: the schema registry", () => {
  it.each([
    [503, "outage"],
    [500, "outage"],
    [429, "outage"],
    [408, "outage"],
    // The registry client's stand-in for "no answer at all" (the socket error stays in its message).
    [400, "outage"],
    [401, "refused"],
    [403, "refused"],
    [404, "missing"],
    [409, "other"],
    [422, "other"],
  ] as const)("HTTP %i from the registry client is %s", (status, kind) => {
    const error = Object.assign(new Error(`status ${status}`), { name: "ResponseError", status });
    expect(classifyFailure("schema registry", error)).toMatchObject({ kind, code: `HTTP ${status}` });
  });

  it("takes a 400 from anything but the registry client for what it says", () => {
    const answered = Object.assign(new Error("HTTP 400 Bad Request"), { status: 400 });
    expect(kindOf("schema registry", answered)).toBe("other");
  });

  it("waits out fetch's failed connections and timeouts", () => {
    const failed = new TypeError("fetch failed", { cause: coded("ECONNREFUSED") });
    expect(classifyFailure("schema registry", failed)).toMatchObject({
      kind: "outage",
      code: "ECONNREFUSED",
    });
    expect(kindOf("schema registry", AbortSignal.abort(new DOMException("t", "TimeoutError")).reason)).toBe(
      "outage",
    );
  });
});

describe("classifyFailure: the hint", () => {
  it("says what to do for the dependency and the code", () => {
    expect(classifyFailure("PostgreSQL", coded("ECONNREFUSED")).hint).toBe(
      "is PostgreSQL up at DATABASE_URL? locally: pnpm stack up",
    );
    expect(classifyFailure("PostgreSQL", sqlstate("42P01")).hint).toMatch(/run bootstrap first/);
    expect(classifyFailure("PostgreSQL", sqlstate("25006")).hint).toMatch(/primary/);
    expect(classifyFailure("Kafka", coded("ECONNREFUSED")).hint).toBe(
      "is Kafka up at KAFKA_BROKERS? locally: pnpm stack up",
    );
  });

  it("counts a dependency already declared unavailable as an outage of it", () => {
    const unavailable = new DependencyUnavailableError("Kafka", "no acknowledgement within 1000 ms");
    expect(kindOf("Kafka", unavailable)).toBe("outage");
  });
});

describe("dependencyOf", () => {
  it("recognises the client that raised an error by its class and codes", () => {
    expect(dependencyOf(make(KafkaJSConnectionError, "Connection timeout"))).toBe("Kafka");
    expect(dependencyOf(sqlstate("57P01"))).toBe("PostgreSQL");
    expect(dependencyOf(coded("CONNECTION_CLOSED"))).toBe("PostgreSQL");
    expect(dependencyOf(Object.assign(new Error("x"), { name: "ResponseError", status: 503 }))).toBe(
      "schema registry",
    );
    // A bare socket error could come from any client.
    expect(dependencyOf(coded("ECONNRESET"))).toBeUndefined();
    expect(dependencyOf(new TypeError("x"))).toBeUndefined();
  });
});

describe("asDependencyFailure", () => {
  it("ends a worker with DEPENDENCY_UNAVAILABLE and the hint on an outage, a refusal or something missing", () => {
    for (const error of [coded("ECONNREFUSED"), sqlstate("28P01"), sqlstate("42P01")]) {
      const ended = asDependencyFailure("PostgreSQL", error);
      expect(ended).toBeInstanceOf(DependencyUnavailableError);
      expect(ended).toMatchObject({
        dependency: "PostgreSQL",
        hint: classifyFailure("PostgreSQL", error).hint,
      });
    }
  });

  it("leaves a bug a bug", () => {
    const bug = sqlstate("42703");
    expect(asDependencyFailure("PostgreSQL", bug)).toBe(bug);
  });
});
