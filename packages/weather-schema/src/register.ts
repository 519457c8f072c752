import { SchemaType } from "@kafkajs/confluent-schema-registry";
import {
  fetchRegistry,
  type RegistryClient,
  type RegistryConnection,
  registryUrl,
} from "@weather/service-kit";
import { readingAvroSchema } from "./avro.ts";
import { readingJsonSchema } from "./json-schema.ts";
import { jsonValueSubjectOf, valueSubjectOf } from "./naming.ts";
import type { ReadingSchemaVersion } from "./reading.ts";
import { WIRE_FORMATS, type WireFormat } from "./wire-record.ts";

/** The registry subject readings of a topic are registered under, per wire format. */
export function subjectOf(topic: string, format: WireFormat): string {
  return format === "avro" ? valueSubjectOf(topic) : jsonValueSubjectOf(topic);
}

/** The schema of a reading version as the registry client takes it. */
function confluentReadingSchema(format: WireFormat, version: ReadingSchemaVersion) {
  return format === "avro"
    ? { type: SchemaType.AVRO as const, schema: JSON.stringify(readingAvroSchema(version)) }
    : { type: SchemaType.JSON as const, schema: JSON.stringify(readingJsonSchema(version)) };
}

/** The registry refused a schema, e.g. 409 when a version breaks the subject's compatibility. */
export class SchemaRegistrationError extends Error {
  readonly subject: string;
  /** HTTP status of the registry's answer; undefined when it did not answer at all. */
  readonly status: number | undefined;

  constructor(subject: string, what: string, cause: unknown) {
    const status = statusOf(cause);
    const reason = cause instanceof Error ? cause.message : String(cause);
    // Whether the registry was away or refused us is the caller's to judge (service-kit's
    // classifyFailure, on this error's cause); a 409 is about the schema itself.
    const hint = status === 409 ? "; the subject's compatibility rule rejects this change" : "";
    super(`cannot register ${what} under subject "${subject}" (${status ?? "no answer"}): ${reason}${hint}`, {
      cause,
    });
    this.name = "SchemaRegistrationError";
    this.subject = subject;
    this.status = status;
  }
}

export function statusOf(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "status" in error && typeof error.status === "number") {
    return error.status;
  }
  return undefined;
}

/**
 * The client turns the lookup's 404 (subject or schema not found; the wording differs between
 * registries) into a plain ConfluentSchemaRegistryError without a status; every other failure keeps
 * its status.
 */
function isNotFound(error: unknown): boolean {
  return (error instanceof Error && error.name === "ConfluentSchemaRegistryError") || statusOf(error) === 404;
}

export interface EnsuredSchema {
  readonly id: number;
  /** False when the subject already had this exact schema. */
  readonly created: boolean;
}

/**
 * Looks the schema up in the subject and registers it only when absent: the lookup needs no write
 * permission, and `created` tells bootstrap what it changed. Safe under concurrency and retries:
 * several producers starting at once on a new topic, or a client repeating a request that had in
 * fact succeeded, all end with the same id. That is why registration does not go through the
 * client's register(), which reads the subject's compatibility, registers, then creates the
 * subject's rule, a sequence two callers interleave into a 409 from the registry.
 */
export async function ensureReadingSchema(
  registry: RegistryClient,
  subject: string,
  format: WireFormat,
  version: ReadingSchemaVersion,
): Promise<EnsuredSchema> {
  const schema = confluentReadingSchema(format, version);
  const what = `${format} reading schema v${version}`;
  try {
    return { id: await registry.client.getRegistryIdBySchema(subject, schema), created: false };
  } catch (error) {
    if (!isNotFound(error)) throw new SchemaRegistrationError(subject, what, error);
  }
  try {
    // A new subject gets the product's rule before its first version, as bootstrap does; a rule
    // someone set before stays as it is.
    await ensureSubjectCompatibility(registry.connection, subject, "BACKWARD");
    return { id: await registerSchemaVersion(registry.connection, subject, schema), created: true };
  } catch (error) {
    throw new SchemaRegistrationError(subject, what, error);
  }
}

const REGISTRY_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

/** The Confluent API's path of a subject (its versions hang below it). */
export function subjectPath(subject: string): string {
  return `/subjects/${encodeURIComponent(subject)}`;
}

/** The Confluent API's path of a subject's compatibility rule. */
export function compatibilityPath(subject: string): string {
  return `/config/${encodeURIComponent(subject)}`;
}

/** A registry answer that was not 2xx, with its status, so callers can tell 409 from 5xx. */
class RegistryResponseError extends Error {
  readonly status: number;
  constructor(method: string, url: string, status: number, body: string) {
    super(`${method} ${url} answered ${status} ${body}`.trim());
    this.name = "RegistryResponseError";
    this.status = status;
  }
}

async function registryRequest(
  registry: RegistryConnection,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const url = registryUrl(registry, path);
  let response: Response;
  try {
    response = await fetchRegistry(registry, path, {
      method,
      headers: { accept: REGISTRY_CONTENT_TYPE, "content-type": REGISTRY_CONTENT_TYPE },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    const reason =
      error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : "";
    throw new Error(
      `cannot reach the schema registry at ${url} (${reason}); is the stack up? run: pnpm stack up`,
      {
        cause: error,
      },
    );
  }
  const text = await response.text();
  if (!response.ok) throw new RegistryResponseError(method, url, response.status, text);
  return text === "" ? undefined : (JSON.parse(text) as unknown);
}

/**
 * POST /subjects/{subject}/versions. The registry answers an identical schema with the id it
 * already has, so a repeated or concurrent registration is harmless.
 */
async function registerSchemaVersion(
  registry: RegistryConnection,
  subject: string,
  schema: ReturnType<typeof confluentReadingSchema>,
): Promise<number> {
  const path = `${subjectPath(subject)}/versions`;
  // Avro is the API's default type and is sent without one, as the Confluent client does.
  const body =
    schema.type === SchemaType.AVRO
      ? { schema: schema.schema }
      : { schemaType: schema.type, schema: schema.schema };
  const answer = (await registryRequest(registry, "POST", path, body)) as { id?: unknown } | undefined;
  if (typeof answer?.id !== "number") {
    throw new Error(
      `POST ${registryUrl(registry, path)} answered without a schema id: ${JSON.stringify(answer)}`,
    );
  }
  return answer.id;
}

/** Sets the subject's compatibility only when it has no rule of its own yet. */
async function ensureSubjectCompatibility(
  registry: RegistryConnection,
  subject: string,
  compatibility: CompatibilityLevel,
): Promise<void> {
  try {
    await registryRequest(registry, "GET", compatibilityPath(subject));
    return;
  } catch (error) {
    if (!(error instanceof RegistryResponseError && error.status === 404)) throw error;
  }
  await setSubjectCompatibility(registry, subject, compatibility);
}

export type CompatibilityLevel = "BACKWARD" | "BACKWARD_TRANSITIVE" | "FORWARD" | "FULL" | "NONE";

/**
 * PUT /config/{subject} (@kafkajs/confluent-schema-registry has no call for it): works before the
 * subject has any version. Apicurio creates
 * the subject's rule on the first PUT and answers 409 "already exists" to a second one (two
 * bootstraps at once, or a retried PUT that had succeeded): then the rule is read back, and the
 * call succeeds when it holds the level asked for.
 */
export async function setSubjectCompatibility(
  registry: RegistryConnection,
  subject: string,
  compatibility: CompatibilityLevel,
): Promise<void> {
  const path = compatibilityPath(subject);
  try {
    await registryRequest(registry, "PUT", path, { compatibility });
    return;
  } catch (error) {
    if (!(error instanceof RegistryResponseError && error.status === 409)) {
      throw new Error(
        `cannot set compatibility ${compatibility} on subject "${subject}": ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  const current = (await registryRequest(registry, "GET", path)) as {
    compatibilityLevel?: string;
    compatibility?: string;
  };
  const level = current?.compatibilityLevel ?? current?.compatibility;
  if (level !== compatibility) {
    throw new Error(
      `cannot set compatibility ${compatibility} on subject "${subject}": it already has ${level ?? "another rule"}; ` +
        `change it on purpose with PUT ${registryUrl(registry, path)}`,
    );
  }
}

export interface RegisteredReadingSchema {
  readonly subject: string;
  readonly format: WireFormat;
  readonly version: ReadingSchemaVersion;
  readonly id: number;
  readonly created: boolean;
}

export interface RegisterReadingSchemasOptions {
  readonly version?: ReadingSchemaVersion;
}

/**
 * Makes the topic's subjects ready: compatibility BACKWARD (set first, so even the first version
 * is registered under the rule), then the reading schema (v1 unless asked otherwise) in Avro and
 * JSON. Idempotent: a second run finds both schemas and reports created: false.
 */
export async function registerReadingSchemas(
  registry: RegistryClient,
  topic: string,
  options: RegisterReadingSchemasOptions = {},
): Promise<RegisteredReadingSchema[]> {
  const version = options.version ?? 1;
  const results: RegisteredReadingSchema[] = [];
  for (const format of WIRE_FORMATS) {
    const subject = subjectOf(topic, format);
    await setSubjectCompatibility(registry.connection, subject, "BACKWARD");
    const { id, created } = await ensureReadingSchema(registry, subject, format, version);
    results.push({ subject, format, version, id, created });
  }
  return results;
}
