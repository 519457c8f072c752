import { pbkdf2Sync, randomBytes } from "node:crypto";
import { join } from "node:path";
import { KAFKA_PRINCIPALS, type KafkaWorker, type WorkerAclNames, workerKafkaAcls } from "@weather/schema";
import { createKafkaAcls, LOCAL_STACK } from "@weather/service-kit";
import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import type { StackContext } from "../context.ts";
import type { StackPaths } from "../paths.ts";
import { ensureRandomSecret, readSecret, writeSecret } from "../secrets.ts";
import { StackError } from "../stack-error.ts";
import type { KafkaLayout, KafkaNode } from "./kafka-layout.ts";
import { type KafkaTlsFiles, type ScramUser, scramPasswordFileOf } from "./kafka-secure.ts";

/**
 * `pnpm stack up --secure`: Kafka as a production cluster runs it. Every node of the layout (one,
 * or each of a cluster's) listens on two ports only:
 *
 * - SASL_SSL (node port + 2): SCRAM-SHA-512 over TLS, for clients and for replication between the
 *   nodes (inter-broker, as the admin principal);
 * - CONTROLLER (node port + 1): SASL_SSL with PLAIN, the admin's name and password in the node's
 *   JAAS configuration. KRaft keeps SCRAM credentials in the metadata log the controllers serve,
 *   so the controllers cannot authenticate one another with SCRAM; PLAIN over TLS, with a secret
 *   only the nodes hold, is what Kafka documents for this listener.
 *
 * The PLAINTEXT port (node port) stays closed. StandardAuthorizer (KRaft's) decides every request
 * from the ACLs (no ACL, no access); the admin is the one super user. Each worker has its own SCRAM
 * user (KAFKA_PRINCIPALS) with the ACLs of workerKafkaAcls, which the stack creates at every
 * `up`. All users are added to the metadata log when the nodes' storage is formatted (before any
 * broker must accept them), as salted credentials so no password is on a command line; a password
 * file changed later is applied with ConfigCommand through the secure listener, as the admin.
 */
export const STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";
const SCRAM_ITERATIONS = 8192;

/** The stack's admin and every worker's principal, with their password files. */
export interface KafkaPrincipals {
  readonly admin: ScramUser;
  readonly workers: Readonly<Record<KafkaWorker, ScramUser>>;
}

export function kafkaPrincipals(paths: StackPaths): KafkaPrincipals {
  const user = (name: string): ScramUser => ({ name, passwordFile: scramPasswordFileOf(paths, name) });
  const workers = Object.fromEntries(
    Object.entries(KAFKA_PRINCIPALS).map(([worker, name]) => [worker, user(name)]),
  ) as Record<KafkaWorker, ScramUser>;
  return { admin: user(LOCAL_STACK.kafkaAdminUser), workers };
}

/** Every principal, the admin first. */
export function allPrincipals(principals: KafkaPrincipals): ScramUser[] {
  return [principals.admin, ...Object.values(principals.workers)];
}

/** Makes each principal's password the first time (an existing file is kept). */
export function ensureKafkaPasswords(paths: StackPaths): KafkaPrincipals {
  const principals = kafkaPrincipals(paths);
  for (const user of allPrincipals(principals)) ensureRandomSecret(user.passwordFile);
  return principals;
}

/**
 * `kafka-storage format --add-scram` values for these users: salted SCRAM-SHA-512 credentials
 * computed here (RFC 5802's SaltedPassword), so the passwords never appear on a command line.
 */
export function addScramArguments(users: readonly ScramUser[]): string[] {
  return users.flatMap((user) => {
    const salt = randomBytes(32);
    const salted = pbkdf2Sync(readSecret(user.passwordFile), salt, SCRAM_ITERATIONS, 64, "sha512");
    return [
      "--add-scram",
      `SCRAM-SHA-512=[name=${user.name},iterations=${SCRAM_ITERATIONS},salt="${salt.toString("base64")}",saltedpassword="${salted.toString("base64")}"]`,
    ];
  });
}

/** server.properties lines of a node under --secure: its listeners, TLS, SASL and the authorizer. */
export function lockedDownProperties(
  layout: KafkaLayout,
  node: KafkaNode,
  tls: KafkaTlsFiles,
  adminPassword: string,
): string[] {
  const admin = LOCAL_STACK.kafkaAdminUser;
  return [
    `controller.quorum.bootstrap.servers=${layout.nodes.map((n) => n.controllerAddress).join(",")}`,
    `listeners=SASL_SSL://${node.secureAddress},CONTROLLER://${node.controllerAddress}`,
    `advertised.listeners=SASL_SSL://${node.secureAddress}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=SASL_SSL",
    "listener.security.protocol.map=CONTROLLER:SASL_SSL,SASL_SSL:SASL_SSL",
    // One certificate (the stack CA's) for both listeners, and the CA to trust as a client of the
    // other nodes; the certificate names 127.0.0.1, so host names are verified too.
    "ssl.keystore.type=PKCS12",
    `ssl.keystore.location=${tls.keystore}`,
    `ssl.keystore.password=${tls.keystorePassword}`,
    `ssl.key.password=${tls.keystorePassword}`,
    "ssl.truststore.type=PEM",
    `ssl.truststore.location=${tls.caFile}`,
    "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
    "listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512",
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin}" password="${adminPassword}";`,
    "sasl.mechanism.controller.protocol=PLAIN",
    "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
    `listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin}" password="${adminPassword}" user_${admin}="${adminPassword}";`,
    `authorizer.class.name=${STANDARD_AUTHORIZER}`,
    `super.users=User:${admin}`,
    "allow.everyone.if.no.acl.found=false",
  ];
}

/**
 * A Java client configuration for Kafka's own tools (ConfigCommand) as the admin, over SASL_SSL
 * with the stack's CA. Written 0600 next to the other secrets; it holds the admin's password.
 */
export function writeAdminClientProperties(paths: StackPaths, tls: KafkaTlsFiles, admin: ScramUser): string {
  const file = join(paths.secrets, "kafka-admin-client.properties");
  writeSecret(
    file,
    [
      "security.protocol=SASL_SSL",
      "sasl.mechanism=SCRAM-SHA-512",
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin.name}" password="${readSecret(admin.passwordFile)}";`,
      "ssl.truststore.type=PEM",
      `ssl.truststore.location=${tls.caFile}`,
      "",
    ].join("\n"),
  );
  return file;
}

/**
 * A kafkajs configuration for `user` on the secure listeners of `layout`, trusting the stack's CA:
 * what a test or the stack itself connects with. No logging, and the retries a caller asks for.
 */
export function secureKafkaConfig(
  layout: KafkaLayout,
  paths: StackPaths,
  user: ScramUser,
  options: Partial<KafkaConfig> = {},
): KafkaConfig {
  return {
    clientId: `stack-${user.name}`,
    brokers: layout.nodes.map((node) => node.secureAddress),
    ssl: { ca: [readSecret(join(paths.secrets, "ca.pem"))] },
    sasl: { mechanism: "scram-sha-512", username: user.name, password: readSecret(user.passwordFile) },
    logLevel: logLevel.NOTHING,
    ...options,
  };
}

/**
 * Creates the workers' ACLs (workerKafkaAcls for `names`) as the admin. Idempotent: Kafka keeps
 * one copy of a rule created twice, so this runs at every `up --secure`.
 * @returns how many rules (principal, resource, operation) the workers have.
 */
export async function applyWorkerAcls(context: StackContext, names: WorkerAclNames = {}): Promise<number> {
  const principals = kafkaPrincipals(context.paths);
  const admin = new Kafka(
    secureKafkaConfig(context.kafka, context.paths, principals.admin, {
      connectionTimeout: 5_000,
      retry: { retries: 5 },
    }),
  ).admin();
  try {
    await admin.connect();
    return await createKafkaAcls(admin, workerKafkaAcls(names));
  } catch (error) {
    throw new StackError(
      "kafka",
      `creating the workers' ACLs as ${principals.admin.name} failed: ${(error as Error).message}`,
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
