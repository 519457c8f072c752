import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { LOCAL_STACK } from "@weather/service-kit";
import { STACK_HOST } from "../context.ts";
import { INFRA_DIR, type StackPaths } from "../paths.ts";
import { StackError } from "../stack-error.ts";

/**
 * The broker's second listener: SASL_SSL on 127.0.0.1:9094 (each node of a cluster on its own
 * port, see kafkaNodePorts), SCRAM-SHA-512 over TLS with a self-signed certificate. It is always configured next to PLAINTEXT (still the default), so a
 * secure client needs no special mode of the stack: the certificate is generated at the broker's
 * first start, the SCRAM user is created once per formatted log dir through the PLAINTEXT
 * listener, and both are kept under .stack/data/kafka/tls/. STACK_KAFKA_SECURE=0 turns it off.
 */
export const KAFKA_SECURE_ADDRESS = `${STACK_HOST}:${LOCAL_STACK.kafkaSecurePort}`;
export const SCRAM_MECHANISM = "scram-sha-512";

/** What a client needs for the secure listener, and what the broker needs to serve it. */
export interface KafkaTlsFiles {
  readonly dir: string;
  /** PKCS12 keystore holding the broker's key and self-signed certificate. */
  readonly keystore: string;
  readonly keystorePassword: string;
  /** The certificate in PEM, for clients to trust (KAFKA_SSL_CA_FILE). */
  readonly caFile: string;
  readonly scramUser: string;
  /** A file holding the SCRAM user's password (KAFKA_SASL_PASSWORD_FILE). */
  readonly scramPasswordFile: string;
}

export function kafkaTlsDir(paths: StackPaths): string {
  return join(paths.data, "kafka", "tls");
}

export function secureListenerEnabled(
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  return !["0", "false", "no", "off"].includes((env.STACK_KAFKA_SECURE ?? "").trim().toLowerCase());
}

/** The file layout of kafkaTlsDir; the files exist once the broker has started with the listener. */
export function kafkaTlsFiles(paths: StackPaths): KafkaTlsFiles {
  const dir = kafkaTlsDir(paths);
  const keystorePasswordFile = join(dir, "keystore.password");
  return {
    dir,
    keystore: join(dir, "broker.p12"),
    keystorePassword: existsSync(keystorePasswordFile)
      ? readFileSync(keystorePasswordFile, "utf8").trim()
      : "",
    caFile: join(dir, "ca.pem"),
    scramUser: LOCAL_STACK.kafkaScramUser,
    scramPasswordFile: join(dir, `${LOCAL_STACK.kafkaScramUser}.password`),
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

function toolNextTo(javaExecutable: string, tool: string): string {
  const candidate = join(dirname(javaExecutable), tool);
  return existsSync(candidate) ? candidate : tool;
}

function run(service: string, command: string, args: readonly string[], what: string): void {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 60_000 });
  if (result.error || result.status !== 0) {
    throw new StackError(
      service,
      `${what} failed: ${result.error?.message ?? ""}${result.stderr || result.stdout}`.trim(),
    );
  }
}

function writeSecret(file: string, value: string): void {
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/**
 * Creates the keystore, the client's PEM and the SCRAM password the first time; later starts reuse
 * them, so a client holding the CA keeps working across broker restarts. Uses the JDK's keytool.
 */
export function ensureKafkaTls(service: string, paths: StackPaths, javaExecutable: string): KafkaTlsFiles {
  const files = kafkaTlsFiles(paths);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  if (!existsSync(files.scramPasswordFile))
    writeSecret(files.scramPasswordFile, randomBytes(18).toString("hex"));
  if (existsSync(files.keystore) && existsSync(files.caFile) && files.keystorePassword !== "") return files;

  rmSync(files.keystore, { force: true });
  const keystorePassword = randomBytes(18).toString("hex");
  const keytool = toolNextTo(javaExecutable, "keytool");
  const store = ["-keystore", files.keystore, "-storetype", "PKCS12", "-storepass", keystorePassword];
  run(
    service,
    keytool,
    [
      "-genkeypair",
      "-alias",
      "broker",
      "-keyalg",
      "RSA",
      "-keysize",
      "2048",
      "-validity",
      "3650",
      "-dname",
      "CN=localhost, OU=weather-streaming local stack",
      "-ext",
      `SAN=dns:localhost,ip:${STACK_HOST}`,
      "-ext",
      "BC:c=ca:true",
      ...store,
      "-keypass",
      keystorePassword,
    ],
    "generating the broker's self-signed certificate (keytool -genkeypair)",
  );
  run(
    service,
    keytool,
    ["-exportcert", "-rfc", "-alias", "broker", ...store, "-file", files.caFile],
    "exporting the broker's certificate (keytool -exportcert)",
  );
  writeSecret(join(files.dir, "keystore.password"), keystorePassword);
  return { ...files, keystorePassword };
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

/**
 * Creates (or resets) the SCRAM user through the PLAINTEXT listener with Kafka's own ConfigCommand
 * from the downloaded jars; kafkajs cannot alter SCRAM credentials. Idempotent, and skipped when a
 * marker says this log dir already has this password, so a normal `up` costs no extra JVM.
 */
export function ensureScramUser(options: {
  readonly service: string;
  readonly files: KafkaTlsFiles;
  readonly javaExecutable: string;
  readonly libDir: string;
  readonly logDir: string;
  readonly bootstrapServer: string;
}): boolean {
  const { files } = options;
  const password = readFileSync(files.scramPasswordFile, "utf8").trim();
  const marker = join(files.dir, "scram-user.done");
  const expected = `${clusterIdOf(options.logDir)} ${createHash("sha256").update(password).digest("hex")}`;
  if (existsSync(marker) && readFileSync(marker, "utf8").trim() === expected) return false;
  run(
    options.service,
    options.javaExecutable,
    [
      `-Dlog4j2.configurationFile=${join(INFRA_DIR, "kafka", "log4j2.properties")}`,
      "-cp",
      `${options.libDir}/*`,
      "kafka.admin.ConfigCommand",
      "--bootstrap-server",
      options.bootstrapServer,
      "--alter",
      "--add-config",
      `SCRAM-SHA-512=[password=${password}]`,
      "--entity-type",
      "users",
      "--entity-name",
      files.scramUser,
    ],
    `creating the SCRAM user ${files.scramUser} (kafka.admin.ConfigCommand)`,
  );
  writeFileSync(marker, `${expected}\n`);
  return true;
}
