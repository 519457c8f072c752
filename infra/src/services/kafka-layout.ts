import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ConfigError,
  type ConfigProblem,
  type KafkaNodePorts,
  kafkaNodePorts,
  LOCAL_STACK,
} from "@weather/service-kit";
import { STACK_HOST } from "../context.ts";
import type { StackPaths } from "../paths.ts";
import { isOn, secureListenerEnabled } from "./kafka-secure.ts";

/** The stack's Kafka as a whole: `pnpm stack logs kafka` and `--started-file` name it so. */
export const KAFKA = "kafka";

/** Most nodes `--brokers` accepts: a quorum of 5 survives two failures; more only costs CPU here. */
export const MAX_KAFKA_NODES = 5;

/** One Kafka process of the stack: broker and KRaft controller in one (a "combined" node). */
export interface KafkaNode {
  /** node.id, 1-based. */
  readonly id: number;
  /** Its pid, log and data folder name: `kafka` when alone, `kafka-<id>` in a cluster. */
  readonly name: string;
  readonly ports: KafkaNodePorts;
  /** PLAINTEXT host:port, for clients and for replication between the nodes. */
  readonly address: string;
  readonly controllerAddress: string;
  readonly secureAddress: string;
}

/** How many nodes the stack's Kafka has and where they listen. */
export interface KafkaLayout {
  readonly nodes: readonly KafkaNode[];
  /** The first node's PLAINTEXT port; node n listens from basePort + 3(n-1). */
  readonly basePort: number;
  /** Whether each node also gets the SASL_SSL listener (STACK_KAFKA_SECURE, on by default). */
  readonly secure: boolean;
  /**
   * `pnpm stack up --secure`: SASL_SSL is each node's only client listener, every listener
   * authenticates, an authorizer runs and each worker has its own principal (see kafka-authz.ts).
   */
  readonly lockedDown: boolean;
  /**
   * KAFKA_BROKERS for the workers, comma-separated: every node's PLAINTEXT address, or, locked
   * down, every node's SASL_SSL address.
   */
  readonly bootstrapServers: string;
  /** Where the layout came from, for messages: an explicit choice, the running stack's, or the default. */
  readonly source: "flag" | "environment" | "recorded" | "default";
}

export function kafkaLayout(
  brokers = 1,
  basePort: number = LOCAL_STACK.kafkaPort,
  options: { secure?: boolean; lockedDown?: boolean; source?: KafkaLayout["source"] } = {},
): KafkaLayout {
  const lockedDown = options.lockedDown ?? false;
  const nodes = Array.from({ length: brokers }, (_, index): KafkaNode => {
    const id = index + 1;
    const ports = kafkaNodePorts(id, basePort);
    return Object.freeze({
      id,
      name: brokers === 1 ? KAFKA : `${KAFKA}-${id}`,
      ports,
      address: `${STACK_HOST}:${ports.broker}`,
      controllerAddress: `${STACK_HOST}:${ports.controller}`,
      secureAddress: `${STACK_HOST}:${ports.secure}`,
    });
  });
  return Object.freeze({
    nodes: Object.freeze(nodes),
    basePort,
    secure: lockedDown || (options.secure ?? true),
    lockedDown,
    bootstrapServers: nodes.map((node) => (lockedDown ? node.secureAddress : node.address)).join(","),
    source: options.source ?? "default",
  });
}

/** Copies (3 at most) of every partition, and how many must have a write before it is acknowledged. */
export function replicationOf(layout: KafkaLayout): { copies: number; minInSync: number } {
  const copies = Math.min(3, layout.nodes.length);
  // With three copies a write needs two: one node may be down, and acks=all still means two copies.
  return { copies, minInSync: copies >= 3 ? 2 : 1 };
}

/** A whole number from `min` to `max`, or a problem naming the setting (and undefined). */
export function wholeNumber(
  raw: string,
  setting: string,
  min: number,
  max: number,
  hint: string,
  problems: ConfigProblem[],
): number | undefined {
  const value = Number(raw.trim());
  if (/^\d+$/.test(raw.trim()) && value >= min && value <= max) return value;
  problems.push({ setting, message: `"${raw}" is not a whole number from ${min} to ${max}; ${hint}` });
  return undefined;
}

/** The record of the layout the stack last started, so `status`, `logs` and `down` need no flag. */
function layoutRecordFile(paths: StackPaths): string {
  return join(paths.run, "kafka-layout.json");
}

export function recordKafkaLayout(paths: StackPaths, layout: KafkaLayout): void {
  mkdirSync(paths.run, { recursive: true });
  writeFileSync(
    layoutRecordFile(paths),
    `${JSON.stringify({ brokers: layout.nodes.length, basePort: layout.basePort, lockedDown: layout.lockedDown })}\n`,
  );
}

export function forgetKafkaLayout(paths: StackPaths): void {
  rmSync(layoutRecordFile(paths), { force: true });
}

/** The layout the stack last started (and has not stopped), as `up` recorded it. */
export function recordedLayout(
  paths: StackPaths,
): { brokers: number; basePort: number; lockedDown: boolean } | undefined {
  try {
    const record = JSON.parse(readFileSync(layoutRecordFile(paths), "utf8")) as {
      brokers?: unknown;
      basePort?: unknown;
      lockedDown?: unknown;
    };
    if (Number.isInteger(record.brokers) && Number.isInteger(record.basePort))
      return {
        brokers: record.brokers as number,
        basePort: record.basePort as number,
        lockedDown: record.lockedDown === true,
      };
  } catch {
    // No record (nothing started yet, or stopped): the default applies.
  }
  return undefined;
}

/**
 * The layout a `pnpm stack` command works on: `--brokers`, else STACK_KAFKA_BROKERS, else the one
 * the stack last started (so `status`, `logs` and `down` cover every node of a running cluster
 * without repeating the flag), else one node. STACK_KAFKA_PORT moves the first node's port (the
 * others follow it); STACK_KAFKA_SECURE=0 leaves the SASL_SSL listeners out. Locked down
 * (`--secure`, else STACK_SECURE, else as the running stack was started) or not.
 * @throws ConfigError naming every bad value.
 */
export function readKafkaLayout(
  env: Readonly<Record<string, string | undefined>>,
  paths: StackPaths,
  brokersFlag?: string,
  secureFlag?: boolean,
): KafkaLayout {
  const problems: ConfigProblem[] = [];
  const recorded = recordedLayout(paths);
  const hint = `e.g. --brokers 3 or STACK_KAFKA_BROKERS=3 for a three-node cluster (1 is the default)`;
  const brokersRaw = brokersFlag ?? (env.STACK_KAFKA_BROKERS?.trim() || undefined);
  const brokersSetting = brokersFlag !== undefined ? "--brokers" : "STACK_KAFKA_BROKERS";
  const brokers =
    brokersRaw === undefined
      ? (recorded?.brokers ?? 1)
      : wholeNumber(brokersRaw, brokersSetting, 1, MAX_KAFKA_NODES, hint, problems);
  const portRaw = env.STACK_KAFKA_PORT?.trim() || undefined;
  const highest = 65_535 - MAX_KAFKA_NODES * 3;
  const basePort =
    portRaw === undefined
      ? (recorded?.basePort ?? LOCAL_STACK.kafkaPort)
      : wholeNumber(
          portRaw,
          "STACK_KAFKA_PORT",
          1024,
          highest,
          `the first Kafka node's PLAINTEXT port (default ${LOCAL_STACK.kafkaPort}); each node takes three ports from there`,
          problems,
        );
  const secureRaw = env.STACK_SECURE?.trim() || undefined;
  const lockedDown =
    secureFlag || (secureRaw !== undefined ? isOn(secureRaw) : (recorded?.lockedDown ?? false));
  if (lockedDown && !secureListenerEnabled(env)) {
    problems.push({
      setting: "STACK_KAFKA_SECURE",
      message:
        "is off, but --secure (or STACK_SECURE) makes SASL_SSL Kafka's only listener; unset one of them",
    });
  }
  if (problems.length > 0 || brokers === undefined || basePort === undefined) throw new ConfigError(problems);
  const source =
    brokersFlag !== undefined
      ? "flag"
      : brokersRaw !== undefined || portRaw !== undefined
        ? "environment"
        : recorded !== undefined
          ? "recorded"
          : "default";
  return kafkaLayout(brokers, basePort, { secure: secureListenerEnabled(env), lockedDown, source });
}
