import { readFileSync } from "node:fs";
import type { ConfigProblem } from "./config-error.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** SASL mechanisms kafkajs speaks without plugins. PLAIN sends the password itself: TLS only. */
export const KAFKA_SASL_MECHANISMS = ["scram-sha-256", "scram-sha-512", "plain"] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

export interface KafkaSasl {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string;
  readonly password: string;
}

export interface KafkaTls {
  /** PEM of the certificate authorities to trust instead of the system's; absent: the system's. */
  readonly ca?: string;
  readonly rejectUnauthorized: boolean;
}

/** How a worker authenticates to Kafka and protects the connection; both null means PLAINTEXT. */
export interface KafkaSecurity {
  readonly tls: KafkaTls | null;
  readonly sasl: KafkaSasl | null;
}

/** libpq's sslmode values; "allow" is treated as "prefer". */
export const DATABASE_SSL_MODES = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
] as const;
export type DatabaseSslMode = (typeof DATABASE_SSL_MODES)[number];

export interface DatabaseSecurity {
  readonly sslMode: DatabaseSslMode;
  /** PEM of the root certificates to verify the server with; absent: the system's. */
  readonly ca?: string;
  /** Overrides the URL's password (DATABASE_PASSWORD or DATABASE_PASSWORD_FILE). */
  readonly password?: string;
}

/** Query parameters libpq understands but postgres.js would forward to the server as settings. */
const LIBPQ_TLS_FILE_PARAMETERS = ["sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword"];

const present = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value.trim();

/** A secret read from a file: the file's content without the trailing newline editors and `echo` add. */
function readSecretFile(
  setting: string,
  path: string,
  problems: ConfigProblem[],
  what: string,
  keepNewline = false,
): string | undefined {
  try {
    const raw = readFileSync(path, "utf8");
    const content = keepNewline ? raw : raw.replace(/\r?\n$/, "");
    if (content === "") problems.push({ setting, message: `${path} is empty; expected ${what}` });
    return content;
  } catch (error) {
    problems.push({
      setting,
      message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); expected ${what}`,
    });
    return undefined;
  }
}

/**
 * The value of VAR, or the content of the file VAR_FILE names (a mounted secret); both set is a
 * mistake. Problems are pushed, so the caller reports them with every other setting's.
 */
export function secretFrom(env: Env, name: string, problems: ConfigProblem[]): string | undefined {
  const direct = env[name];
  const file = present(env[`${name}_FILE`]);
  if (direct !== undefined && direct !== "" && file !== undefined) {
    problems.push({ setting: name, message: `set either ${name} or ${name}_FILE, not both` });
    return undefined;
  }
  if (file !== undefined) return readSecretFile(`${name}_FILE`, file, problems, "the secret");
  return direct === "" ? undefined : direct;
}

function readPem(setting: string, path: string, problems: ConfigProblem[]): string | undefined {
  const pem = readSecretFile(setting, path, problems, "PEM certificates", true);
  if (pem !== undefined && pem !== "" && !pem.includes("-----BEGIN CERTIFICATE-----")) {
    problems.push({ setting, message: `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
    return undefined;
  }
  return pem;
}

function booleanFrom(env: Env, name: string, problems: ConfigProblem[]): boolean | undefined {
  const raw = present(env[name])?.toLowerCase();
  if (raw === undefined) return undefined;
  if (["true", "1", "yes", "on"].includes(raw)) return true;
  if (["false", "0", "no", "off"].includes(raw)) return false;
  problems.push({ setting: name, message: `must be true or false, not "${env[name]}"` });
  return undefined;
}

/**
 * Reads KAFKA_SSL, KAFKA_SSL_CA_FILE, KAFKA_SSL_REJECT_UNAUTHORIZED, KAFKA_SASL_MECHANISM,
 * KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE). Problems are pushed,
 * not thrown, so the caller reports them with every other setting's.
 */
export function readKafkaSecurity(env: Env, problems: ConfigProblem[]): KafkaSecurity {
  const sslFlag = booleanFrom(env, "KAFKA_SSL", problems);
  const caFile = present(env.KAFKA_SSL_CA_FILE);
  const rejectUnauthorized = booleanFrom(env, "KAFKA_SSL_REJECT_UNAUTHORIZED", problems) ?? true;
  if (caFile !== undefined && sslFlag === false) {
    problems.push({ setting: "KAFKA_SSL_CA_FILE", message: "is set but KAFKA_SSL=false; drop one of them" });
  }
  // A CA file only makes sense with TLS, so it turns TLS on by itself.
  const sslOn = sslFlag ?? caFile !== undefined;
  const ca = caFile !== undefined ? readPem("KAFKA_SSL_CA_FILE", caFile, problems) : undefined;
  const tls: KafkaTls | null = sslOn
    ? Object.freeze(ca !== undefined ? { ca, rejectUnauthorized } : { rejectUnauthorized })
    : null;

  const mechanismRaw = present(env.KAFKA_SASL_MECHANISM)?.toLowerCase();
  const username = present(env.KAFKA_SASL_USERNAME);
  const password = secretFrom(env, "KAFKA_SASL_PASSWORD", problems);
  if (mechanismRaw === undefined) {
    if (username !== undefined || password !== undefined) {
      problems.push({
        setting: "KAFKA_SASL_MECHANISM",
        message: `is not set but a SASL username or password is; set it to one of ${KAFKA_SASL_MECHANISMS.join(", ")}`,
      });
    }
    return Object.freeze({ tls, sasl: null });
  }
  const mechanism = KAFKA_SASL_MECHANISMS.find((m) => m === mechanismRaw);
  if (mechanism === undefined) {
    problems.push({
      setting: "KAFKA_SASL_MECHANISM",
      message: `"${env.KAFKA_SASL_MECHANISM}" is not one of ${KAFKA_SASL_MECHANISMS.join(", ")}`,
    });
  }
  if (username === undefined) {
    problems.push({ setting: "KAFKA_SASL_USERNAME", message: `is required with KAFKA_SASL_MECHANISM` });
  }
  if (password === undefined && !problems.some((p) => p.setting.startsWith("KAFKA_SASL_PASSWORD"))) {
    problems.push({
      setting: "KAFKA_SASL_PASSWORD",
      message: "is required with KAFKA_SASL_MECHANISM (or KAFKA_SASL_PASSWORD_FILE naming a file)",
    });
  }
  if (mechanism === "plain" && !sslOn) {
    problems.push({
      setting: "KAFKA_SASL_MECHANISM",
      message: "plain sends the password in clear text; enable TLS (KAFKA_SSL=true) or use scram-sha-512",
    });
  }
  if (mechanism === undefined || username === undefined || password === undefined) {
    return Object.freeze({ tls, sasl: null });
  }
  return Object.freeze({ tls, sasl: Object.freeze({ mechanism, username, password }) });
}

/**
 * Reads how to reach PostgreSQL securely: sslmode from the URL (else PGSSLMODE, else disable), the
 * root certificate from the URL's sslrootcert, DATABASE_SSL_CA_FILE or PGSSLROOTCERT, and the
 * password from DATABASE_PASSWORD or DATABASE_PASSWORD_FILE (else the URL's). Returns the URL
 * without libpq's certificate-file parameters, which postgres.js would send to the server as settings.
 */
export function readDatabaseSecurity(
  databaseUrl: string,
  env: Env,
  problems: ConfigProblem[],
): { url: string; security: DatabaseSecurity } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return { url: databaseUrl, security: Object.freeze({ sslMode: "disable" }) };
  }
  const modeRaw = present(url.searchParams.get("sslmode") ?? undefined) ?? present(env.PGSSLMODE);
  const sslMode = DATABASE_SSL_MODES.find((m) => m === (modeRaw ?? "disable"));
  if (sslMode === undefined) {
    problems.push({
      setting: "DATABASE_URL",
      message: `sslmode "${modeRaw}" is not one of ${DATABASE_SSL_MODES.join(", ")}`,
    });
  }
  const rootCertInUrl = present(url.searchParams.get("sslrootcert") ?? undefined);
  let stripped = databaseUrl;
  if (LIBPQ_TLS_FILE_PARAMETERS.some((name) => url.searchParams.has(name))) {
    for (const name of LIBPQ_TLS_FILE_PARAMETERS) url.searchParams.delete(name);
    stripped = url.toString();
  }
  const caSetting =
    rootCertInUrl !== undefined
      ? "DATABASE_URL sslrootcert"
      : present(env.DATABASE_SSL_CA_FILE) !== undefined
        ? "DATABASE_SSL_CA_FILE"
        : "PGSSLROOTCERT";
  const caFile = rootCertInUrl ?? present(env.DATABASE_SSL_CA_FILE) ?? present(env.PGSSLROOTCERT);
  // sslrootcert=system means "the system's roots, and verify the host name" in libpq 16+.
  const systemRoots = caFile === "system";
  const ca = caFile !== undefined && !systemRoots ? readPem(caSetting, caFile, problems) : undefined;
  const password = secretFrom(env, "DATABASE_PASSWORD", problems);

  // libpq: with a root certificate, require behaves like verify-ca.
  let mode: DatabaseSslMode = sslMode ?? "disable";
  if (systemRoots) mode = "verify-full";
  else if (mode === "require" && ca !== undefined) mode = "verify-ca";
  return {
    url: stripped,
    security: Object.freeze({
      sslMode: mode,
      ...(ca !== undefined ? { ca } : {}),
      ...(password !== undefined ? { password } : {}),
    }),
  };
}
