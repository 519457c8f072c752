import { type SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
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
  registry: SchemaRegistry,
  subject: string,
  format: WireFormat,
  version: ReadingSchemaVersion,
  options: { readonly registryUrl?: string } = {},
): Promise<EnsuredSchema> {
  const schema = confluentReadingSchema(format, version);
  const what = `${format} reading schema v${version}`;
  try {
    return { id: await registry.getRegistryIdBySchema(subject, schema), created: false };
  } catch (error) {
    if (!isNotFound(error)) throw new SchemaRegistrationError(subject, what, error);
  }
  const registryUrl = options.registryUrl ?? registryUrlOf(registry);
  if (registryUrl === undefined) {
    throw new Error(`cannot tell the schema registry's URL from the client; pass options.registryUrl`);
  }
  try {
    // A new subject gets the product's rule before its first version, as bootstrap does; a rule
    // someone set before stays as it is.
    await ensureSubjectCompatibility(registryUrl, subject, "BACKWARD");
    return { id: await registerSchemaVersion(registryUrl, subject, schema), created: true };
  } catch (error) {
    throw new SchemaRegistrationError(subject, what, error);
  }
}

const REGISTRY_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

/** The Confluent API's URL of a subject (its versions hang below it). */
function subjectUrl(registryUrl: string, subject: string): string {
  return `${registryUrl.replace(/\/+$/, "")}/subjects/${encodeURIComponent(subject)}`;
}

/** The Confluent API's URL of a subject's compatibility rule. */
function configUrl(registryUrl: string, subject: string): string {
  return `${registryUrl.replace(/\/+$/, "")}/config/${encodeURIComponent(subject)}`;
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

async function registryRequest(method: string, url: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { accept: REGISTRY_CONTENT_TYPE, "content-type": REGISTRY_CONTENT_TYPE },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
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
  const text = await response.text();
  if (!response.ok) throw new RegistryResponseError(method, url, response.status, text);
  return text === "" ? undefined : (JSON.parse(text) as unknown);
}

/**
 * POST /subjects/{subject}/versions. The registry answers an identical schema with the id it
 * already has, so a repeated or concurrent registration is harmless.
 */
async function registerSchemaVersion(
  registryUrl: string,
  subject: string,
  schema: ReturnType<typeof confluentReadingSchema>,
): Promise<number> {
  const url = `${subjectUrl(registryUrl, subject)}/versions`;
  // Avro is the API's default type and is sent without one, as the Confluent client does.
  const body =
    schema.type === SchemaType.AVRO
      ? { schema: schema.schema }
      : { schemaType: schema.type, schema: schema.schema };
  const answer = (await registryRequest("POST", url, body)) as { id?: unknown } | undefined;
  if (typeof answer?.id !== "number") {
    throw new Error(`POST ${url} answered without a schema id: ${JSON.stringify(answer)}`);
  }
  return answer.id;
}

/** Sets the subject's compatibility only when it has no rule of its own yet. */
async function ensureSubjectCompatibility(
  registryUrl: string,
  subject: string,
  compatibility: CompatibilityLevel,
): Promise<void> {
  const url = configUrl(registryUrl, subject);
  try {
    await registryRequest("GET", url);
    return;
  } catch (error) {
    if (!(error instanceof RegistryResponseError && error.status === 404)) throw error;
  }
  await setSubjectCompatibility(registryUrl, subject, compatibility);
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

/**
 * PUT {registryUrl}/config/{subject}: works before the subject has any version. Apicurio creates
 * the subject's rule on the first PUT and answers 409 "already exists" to a second one (two
 * bootstraps at once, or a retried PUT that had succeeded): then the rule is read back, and the
 * call succeeds when it holds the level asked for.
 */
export async function setSubjectCompatibility(
  registryUrl: string,
  subject: string,
  compatibility: CompatibilityLevel,
): Promise<void> {
  const url = configUrl(registryUrl, subject);
  try {
    await registryRequest("PUT", url, { compatibility });
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
  const current = (await registryRequest("GET", url)) as {
    compatibilityLevel?: string;
    compatibility?: string;
  };
  const level = current?.compatibilityLevel ?? current?.compatibility;
  if (level !== compatibility) {
    throw new Error(
      `cannot set compatibility ${compatibility} on subject "${subject}": it already has ${level ?? "another rule"}; ` +
        `change it on purpose with PUT ${url}`,
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
    const { id, created } = await ensureReadingSchema(registry, subject, format, version, { registryUrl });
    results.push({ subject, format, version, id, created });
  }
  return results;
}
