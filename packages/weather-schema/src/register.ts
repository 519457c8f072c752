import { type SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { readingAvroSchema } from "./avro.ts";
import { readingJsonSchema } from "./json-schema.ts";
import type { ReadingSchemaVersion } from "./reading.ts";
import { jsonValueSubjectOf, valueSubjectOf } from "./topics.ts";
import { WIRE_FORMATS, type WireFormat } from "./wire-record.ts";

/** The registry subject readings of a topic are registered under, per wire format. */
export function subjectOf(topic: string, format: WireFormat): string {
  return format === "avro" ? valueSubjectOf(topic) : jsonValueSubjectOf(topic);
}

/** The schema of a reading version as the registry client takes it. */
export function confluentReadingSchema(format: WireFormat, version: ReadingSchemaVersion) {
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
    // The client reports a connection failure as status 400 with the socket error in the message.
    const unreachable =
      status === undefined || /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET/.test(reason);
    const hint =
      status === 409
        ? "; the subject's compatibility rule rejects this change"
        : unreachable
          ? "; is the registry up? run: pnpm stack up"
          : "";
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
 * permission, and `created` tells bootstrap what it changed. Two concurrent callers may both see
 * "absent" and both register; the registry returns the same id to both.
 */
export async function ensureReadingSchema(
  registry: SchemaRegistry,
  subject: string,
  format: WireFormat,
  version: ReadingSchemaVersion,
): Promise<EnsuredSchema> {
  const schema = confluentReadingSchema(format, version);
  const what = `${format} reading schema v${version}`;
  try {
    return { id: await registry.getRegistryIdBySchema(subject, schema), created: false };
  } catch (error) {
    if (!isNotFound(error)) throw new SchemaRegistrationError(subject, what, error);
  }
  try {
    const { id } = await registry.register(schema, { subject });
    return { id, created: true };
  } catch (error) {
    throw new SchemaRegistrationError(subject, what, error);
  }
}

/**
 * The base URL the client talks to. @kafkajs/confluent-schema-registry 4.1.0 keeps it in its
 * (private) mappersmith manifest and offers no call for a subject's compatibility, so we read it
 * there, defensively; pass `registryUrl` to avoid relying on that.
 */
function registryUrlOf(registry: SchemaRegistry): string | undefined {
  const api: unknown = Reflect.get(registry, "api");
  const manifest: unknown =
    typeof api === "object" && api !== null ? Reflect.get(api, "_manifest") : undefined;
  const host: unknown =
    typeof manifest === "object" && manifest !== null ? Reflect.get(manifest, "host") : undefined;
  return typeof host === "string" ? host : undefined;
}

export type CompatibilityLevel = "BACKWARD" | "BACKWARD_TRANSITIVE" | "FORWARD" | "FULL" | "NONE";

/** PUT {registryUrl}/config/{subject}: works before the subject has any version. */
export async function setSubjectCompatibility(
  registryUrl: string,
  subject: string,
  compatibility: CompatibilityLevel,
): Promise<void> {
  const url = `${registryUrl.replace(/\/+$/, "")}/config/${encodeURIComponent(subject)}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "PUT",
      headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
      body: JSON.stringify({ compatibility }),
      signal: AbortSignal.timeout(10_000),
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
  if (response.status === 409) {
    // Apicurio creates the subject's rule on the first PUT and answers 409 "already exists" to a
    // second writer racing it (two bootstraps at once). The loser's wish is the winner's: confirm it.
    const current = await fetch(url, { signal: AbortSignal.timeout(10_000) }).then((r) => r.json());
    const level = (current as { compatibilityLevel?: string; compatibility?: string }) ?? {};
    if ((level.compatibilityLevel ?? level.compatibility) === compatibility) return;
  }
  if (!response.ok) {
    throw new Error(
      `cannot set compatibility ${compatibility} on subject "${subject}": PUT ${url} answered ${response.status} ${await response.text()}`,
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
  /** The registry's base URL, for the compatibility call; defaults to the client's own. */
  readonly registryUrl?: string;
  readonly version?: ReadingSchemaVersion;
}

/**
 * Makes the topic's subjects ready: compatibility BACKWARD (set first, so even the first version
 * is registered under the rule), then the reading schema (v1 unless asked otherwise) in Avro and
 * JSON. Idempotent: a second run finds both schemas and reports created: false.
 */
export async function registerReadingSchemas(
  registry: SchemaRegistry,
  topic: string,
  options: RegisterReadingSchemasOptions = {},
): Promise<RegisteredReadingSchema[]> {
  const registryUrl = options.registryUrl ?? registryUrlOf(registry);
  if (registryUrl === undefined) {
    throw new Error(
      "registerReadingSchemas: cannot tell the registry's URL from the client; pass options.registryUrl",
    );
  }
  const version = options.version ?? 1;
  const results: RegisteredReadingSchema[] = [];
  for (const format of WIRE_FORMATS) {
    const subject = subjectOf(topic, format);
    await setSubjectCompatibility(registryUrl, subject, "BACKWARD");
    const { id, created } = await ensureReadingSchema(registry, subject, format, version);
    results.push({ subject, format, version, id, created });
  }
  return results;
}

/**
 * The inverse of registerReadingSchemas: removes the topic's reading subjects (Avro and JSON),
 * soft first, then permanently, as the Confluent API requires. Subjects that are absent are fine.
 * @returns true when the registry confirmed every delete (200, or 404 for nothing to delete).
 */
export async function deleteReadingSubjects(registryUrl: string, topic: string): Promise<boolean> {
  let confirmed = true;
  for (const format of WIRE_FORMATS) {
    const url = `${registryUrl.replace(/\/+$/, "")}/subjects/${encodeURIComponent(subjectOf(topic, format))}`;
    for (const target of [url, `${url}?permanent=true`]) {
      const response = await fetch(target, { method: "DELETE", signal: AbortSignal.timeout(10_000) }).catch(
        () => undefined,
      );
      if (response?.status !== 200 && response?.status !== 404) confirmed = false;
    }
  }
  return confirmed;
}
