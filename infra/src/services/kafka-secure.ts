import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_STACK } from "@weather/service-kit";
import { STACK_HOST } from "../context.ts";
import { INFRA_DIR, type StackPaths } from "../paths.ts";
import { ensureRandomSecret, readSecret, runTool } from "../secrets.ts";
import { ensureStackCa, stackCaFiles } from "./stack-ca.ts";

/**
 * The broker's second listener: SASL_SSL on 127.0.0.1:9094 (each node of a cluster on its own
 * port, see kafkaNodePorts), SCRAM-SHA-512 over TLS with a certificate of the stack's CA
 * (stack-ca.ts). It is always configured next to PLAINTEXT (still the default), so a secure client
 * needs no special mode of the stack: the certificate is made at the broker's first start, the
 * SCRAM user is created once per formatted log dir through the PLAINTEXT listener, and both are
 * kept in the stack's secrets folder. STACK_KAFKA_SECURE=0 turns it off. `pnpm stack up --secure`
 * goes further (SASL_SSL only, an authorizer, a principal per worker): see kafka-authz.ts.
 */
export const KAFKA_SECURE_ADDRESS = `${STACK_HOST}:${LOCAL_STACK.kafkaSecurePort}`;
export const SCRAM_MECHANISM = "scram-sha-512";

/** What a client needs for the secure listener, and what the broker needs to serve it. */
export interface KafkaTlsFiles {
  /** The stack's secrets folder, where all of these are. */
  readonly dir: string;
  /** PKCS12 keystore holding the broker's key and certificate, and the CA. */
  readonly keystore: string;
  readonly keystorePassword: string;
  /** The stack's CA certificate in PEM, for clients to trust (KAFKA_SSL_CA_FILE). */
  readonly caFile: string;
  readonly scramUser: string;
  /** A file holding the SCRAM user's password (KAFKA_SASL_PASSWORD_FILE). */
  readonly scramPasswordFile: string;
}

/** A switch variable's value: anything but 0, false, no, off (any case) is on. */
export function isOn(value: string): boolean {
  return !["0", "false", "no", "off"].includes(value.trim().toLowerCase());
}

export function secureListenerEnabled(
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  return isOn(env.STACK_KAFKA_SECURE ?? "");
}

/** The password file of a SCRAM user of the stack. */
export function scramPasswordFileOf(paths: StackPaths, user: string): string {
  return join(paths.secrets, `kafka-${user}.password`);
}

/** Where the listener's files are; they exist once the broker has started with the listener. */
export function kafkaTlsFiles(paths: StackPaths): KafkaTlsFiles {
  const ca = stackCaFiles(paths);
  return {
    dir: paths.secrets,
    keystore: ca.serverKeystore,
    keystorePassword: existsSync(ca.serverKeystorePasswordFile)
      ? readSecret(ca.serverKeystorePasswordFile)
      : "",
    caFile: ca.caCert,
    scramUser: LOCAL_STACK.kafkaScramUser,
    scramPasswordFile: scramPasswordFileOf(paths, LOCAL_STACK.kafkaScramUser),
  };
}

/**
 * The environment a worker needs to use the secure listener, e.g. for tests:
 * KAFKA_BROKERS=127.0.0.1:9094 (every node's SASL_SSL address, given a cluster's `secureAddresses`)
 * and the SASL/TLS variables pointing at the stack's files. All nodes share one certificate.
 */
export function secureKafkaClientEnv(
  paths: StackPaths,
  secureAddresses: readonly string[] = [KAFKA_SECURE_ADDRESS],
): Record<string, string> {
  const files = kafkaTlsFiles(paths);
  return {
    KAFKA_BROKERS: secureAddresses.join(","),
    KAFKA_SSL: "true",
    KAFKA_SSL_CA_FILE: files.caFile,
    KAFKA_SASL_MECHANISM: SCRAM_MECHANISM,
    KAFKA_SASL_USERNAME: files.scramUser,
    KAFKA_SASL_PASSWORD_FILE: files.scramPasswordFile,
  };
}

/**
 * Makes the stack's CA and the broker's keystore (see stack-ca.ts) and, unless the layout is
 * locked down (its users are the workers' principals), the SCRAM user's password, the first time;
 * later starts reuse them.
 */
export function ensureKafkaTls(
  service: string,
  paths: StackPaths,
  options: { lockedDown: boolean },
): KafkaTlsFiles {
  ensureStackCa(service, paths);
  const files = kafkaTlsFiles(paths);
  if (!options.lockedDown) ensureRandomSecret(files.scramPasswordFile);
  return files;
}

/** server.properties lines for the SASL_SSL listener (added to PLAINTEXT and CONTROLLER). */
export function secureListenerProperties(files: KafkaTlsFiles): string[] {
  const prefix = "listener.name.sasl_ssl";
  const scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  return [
    `${prefix}.sasl.enabled.mechanisms=SCRAM-SHA-512`,
    `${prefix}.scram-sha-512.sasl.jaas.config=${scram}`,
    `${prefix}.ssl.keystore.type=PKCS12`,
    `${prefix}.ssl.keystore.location=${files.keystore}`,
    `${prefix}.ssl.keystore.password=${files.keystorePassword}`,
    `${prefix}.ssl.key.password=${files.keystorePassword}`,
  ];
}

function clusterIdOf(logDir: string): string {
  const meta = join(logDir, "meta.properties");
  if (!existsSync(meta)) return "";
  return /^cluster\.id=(.*)$/m.exec(readFileSync(meta, "utf8"))?.[1]?.trim() ?? "";
}

/** A SCRAM-SHA-512 user of the stack and the file holding its password. */
export interface ScramUser {
  readonly name: string;
  readonly passwordFile: string;
}

/** One line per user: the cluster and a hash of the password it was given there. */
function scramRecord(clusterId: string, user: ScramUser): string {
  const password = readSecret(user.passwordFile);
  return `${clusterId} ${user.name} ${createHash("sha256").update(password).digest("hex")}`;
}

function recordedScramUsers(markerFile: string): Set<string> {
  return new Set(existsSync(markerFile) ? readFileSync(markerFile, "utf8").split("\n") : []);
}

/** Notes that these users have these passwords on the cluster of `logDir` (after a format that added them). */
export function recordScramUsers(markerFile: string, logDir: string, users: readonly ScramUser[]): void {
  const clusterId = clusterIdOf(logDir);
  writeFileSync(markerFile, `${users.map((user) => scramRecord(clusterId, user)).join("\n")}\n`);
}

/**
 * Creates (or resets) SCRAM users whose password the cluster does not have yet, with Kafka's own
 * ConfigCommand from the downloaded jars (kafkajs cannot alter SCRAM credentials), through
 * `bootstrapServer` (as the admin `commandConfig` names, on a secure listener). Skipped for each
 * user a marker says already has this password on this cluster, so a normal `up` costs no extra
 * JVM (and a locked-down stack's users were added, salted, when it was formatted).
 * @returns the names of the users created or reset.
 */
export function ensureScramUsers(options: {
  readonly service: string;
  readonly users: readonly ScramUser[];
  readonly markerFile: string;
  readonly javaExecutable: string;
  readonly libDir: string;
  readonly logDir: string;
  readonly bootstrapServer: string;
  readonly commandConfig?: string;
}): string[] {
  const clusterId = clusterIdOf(options.logDir);
  const recorded = recordedScramUsers(options.markerFile);
  const missing = options.users.filter((user) => !recorded.has(scramRecord(clusterId, user)));
  for (const user of missing) {
    // ConfigCommand's --add-config-file mangles the mechanism's name; the password goes on its
    // command line for the second or two the JVM runs, and is masked in any error it prints.
    const password = readSecret(user.passwordFile);
    runTool(
      options.service,
      options.javaExecutable,
      [
        `-Dlog4j2.configurationFile=${join(INFRA_DIR, "kafka", "log4j2.properties")}`,
        "-cp",
        `${options.libDir}/*`,
        "kafka.admin.ConfigCommand",
        "--bootstrap-server",
        options.bootstrapServer,
        ...(options.commandConfig ? ["--command-config", options.commandConfig] : []),
        "--alter",
        "--add-config",
        `SCRAM-SHA-512=[password=${password}]`,
        "--entity-type",
        "users",
        "--entity-name",
        user.name,
      ],
      `creating the SCRAM user ${user.name} (kafka.admin.ConfigCommand)`,
      { secrets: [password] },
    );
  }
  if (missing.length > 0) {
    const others = [...recorded].filter(
      (line) => line !== "" && !options.users.some((user) => line.split(" ")[1] === user.name),
    );
    writeFileSync(
      options.markerFile,
      `${[...others, ...options.users.map((user) => scramRecord(clusterId, user))].join("\n")}\n`,
    );
  }
  return missing.map((user) => user.name);
}
