/**
 * Where the schema registry is: the registry connection group, its value, and the two ways to talk
 * to it, both made from that value: @kafkajs/confluent-schema-registry's client, and requests for
 * what the client has no method for (compatibility rules, deleting subjects, probes).
 */
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { defineSettingsGroup, setting } from "@weather/settings";
import { z } from "zod";
import { DEFAULT_SCHEMA_REGISTRY_URL } from "./local-stack.ts";

/** The registry connection group's value; every call to the registry is made from it. */
export interface RegistryConnection {
  /** Base URL of a Confluent-compatible schema registry API, without a trailing slash. */
  readonly url: string;
}

/** Where the schema registry is. */
export const REGISTRY_CONNECTION = defineSettingsGroup({
  title: "Schema registry",
  settings: {
    url: setting({
      env: "SCHEMA_REGISTRY_URL",
      value: "URL",
      description: "a Confluent-compatible schema registry API",
      default: DEFAULT_SCHEMA_REGISTRY_URL,
      schema: z.url({
        protocol: /^https?$/,
        error: `must be an http:// or https:// URL, e.g. ${DEFAULT_SCHEMA_REGISTRY_URL}`,
      }),
    }),
  },
  read: ({ url }): RegistryConnection => Object.freeze({ url: url.replace(/\/+$/, "") }),
});

/** A registry client with the connection it was made for. */
export interface RegistryClient {
  readonly connection: RegistryConnection;
  /** @kafkajs/confluent-schema-registry's client: schemas by id, encoding, lookups. */
  readonly client: SchemaRegistry;
}

/** The one place a registry client is made. */
export function createRegistryClient(connection: RegistryConnection): RegistryClient {
  return Object.freeze({ connection, client: new SchemaRegistry({ host: connection.url }) });
}

/** The URL of a path of the registry's API, e.g. `/subjects`; for messages and requests. */
export function registryUrl(connection: RegistryConnection, path: string): string {
  return `${connection.url}${path}`;
}

/**
 * A request to the registry's API (`path` starts with /): the one way hand-written calls reach the
 * registry. Gives up after 10 s unless `init.signal` says otherwise.
 */
export function fetchRegistry(
  connection: RegistryConnection,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(registryUrl(connection, path), {
    ...init,
    signal: init.signal ?? AbortSignal.timeout(10_000),
  });
}
