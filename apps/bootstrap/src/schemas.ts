import { setTimeout as sleep } from "node:timers/promises";
import {
  compatibilityPath,
  registerReadingSchemas,
  subjectOf,
  WIRE_FORMATS,
  type WireFormat,
} from "@weather/schema";
import { fetchRegistry, type RegistryClient, type RegistryConnection } from "@weather/service-kit";
import { BootstrapError } from "./errors.ts";

const COMPATIBILITY = "BACKWARD";

export interface SubjectOutcome {
  readonly subject: string;
  readonly format: WireFormat;
  readonly id: number;
  /** Whether this run registered the schema (false: the subject already had it). */
  readonly created: boolean;
  /** The subject's compatibility before this run; undefined when the subject did not exist. */
  readonly compatibilityBefore: string | undefined;
}

export interface SchemasOutcome {
  readonly subjects: readonly SubjectOutcome[];
}

const REGISTRY_HINT = "check SCHEMA_REGISTRY_URL and the registry's log (pnpm stack status)";

/**
 * GET /config/<subject>. Apicurio's Confluent API answers with the global level when the subject
 * has none of its own, and 404 for a subject it does not know; that is as precise as this API gets.
 */
async function compatibilityOf(registry: RegistryConnection, subject: string): Promise<string | undefined> {
  const response = await fetchRegistry(registry, compatibilityPath(subject));
  if (response.status === 404) return undefined;
  if (!response.ok)
    throw new Error(`GET /config/${subject} answered ${response.status} ${await response.text()}`);
  return ((await response.json()) as { compatibilityLevel?: string }).compatibilityLevel;
}

/**
 * Apicurio's Confluent API is not safe against concurrent writers: two bootstraps setting the
 * compatibility of a new subject at once make one of them fail with 409 "A rule named
 * 'COMPATIBILITY' already exists" (seen in this app's concurrency test). Every step is idempotent,
 * so the loser simply tries again and then finds the rule in place. Bounded, and a real refusal
 * (an incompatible schema) fails the same way every time, so retrying it costs only a moment.
 */
async function withRetries<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(100 * attempt + Math.floor(Math.random() * 100));
    }
  }
}

/**
 * Registers the reading's schema under the topic's subjects (one per wire format) with
 * compatibility BACKWARD, so consumers built for one version can read the next.
 * registerReadingSchemas pins the level on each subject itself (before the first version); we
 * read it before, to report what changed, and after, to prove it holds.
 */
export async function registerSchemas(registry: RegistryClient, topic: string): Promise<SchemasOutcome> {
  try {
    const before = new Map<string, string | undefined>();
    for (const format of WIRE_FORMATS) {
      const subject = subjectOf(topic, format);
      before.set(subject, await compatibilityOf(registry.connection, subject));
    }
    const registered = await withRetries(() => registerReadingSchemas(registry, topic));
    const subjects: SubjectOutcome[] = [];
    for (const { subject, format, id, created } of registered) {
      const after = await compatibilityOf(registry.connection, subject);
      if (after !== COMPATIBILITY) {
        throw new Error(
          `subject ${subject} has compatibility ${after ?? "unset"} after setting ${COMPATIBILITY}`,
        );
      }
      subjects.push({ subject, format, id, created, compatibilityBefore: before.get(subject) });
    }
    return { subjects };
  } catch (error) {
    throw new BootstrapError(
      `cannot register the reading schemas of topic ${topic}`,
      registry.connection.url,
      error,
      REGISTRY_HINT,
    );
  }
}
