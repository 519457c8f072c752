import { readFileSync } from "node:fs";
import type { ConfigProblem } from "@weather/settings";
import { type SettingValues, setting, switchSchema } from "@weather/settings";
import { z } from "zod";

/** SASL mechanisms kafkajs speaks without plugins. PLAIN sends the password itself: TLS only. */
const KAFKA_SASL_MECHANISMS = ["scram-sha-256", "scram-sha-512", "plain"] as const;
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
const DATABASE_SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
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

const text = z.string().trim();

/** A secret given directly (VAR) or as a file holding it (VAR_FILE, a mounted secret). */
export function secretSettings(env: string, what: string) {
  return {
    value: setting({ env, description: what, secret: true, schema: z.string() }),
    file: setting({
      env: `${env}_FILE`,
      value: "PATH",
      description: `a file holding ${env} (a mounted secret; one trailing newline is ignored); not together with ${env}`,
      schema: text,
    }),
  };
}

const saslPassword = secretSettings("KAFKA_SASL_PASSWORD", "the SASL password");
const databasePassword = secretSettings(
  "DATABASE_PASSWORD",
  "the PostgreSQL password, instead of the one in DATABASE_URL",
);

/** How the workers protect and authenticate their Kafka connections. */
export const KAFKA_SECURITY_SETTINGS = Object.freeze({
  ssl: setting({
    env: "KAFKA_SSL",
    description: "connect to Kafka over TLS",
    defaultText: "on when KAFKA_SSL_CA_FILE is set, else off",
    schema: switchSchema,
  }),
  caFile: setting({
    env: "KAFKA_SSL_CA_FILE",
    value: "PATH",
    description: "PEM file of the certificate authorities to trust instead of the system's; turns TLS on",
    schema: text,
  }),
  rejectUnauthorized: setting({
    env: "KAFKA_SSL_REJECT_UNAUTHORIZED",
    description: "verify the broker's certificate (false only for a throwaway test broker)",
    default: "true",
    schema: switchSchema,
  }),
  saslMechanism: setting({
    env: "KAFKA_SASL_MECHANISM",
    description: `SASL mechanism: ${KAFKA_SASL_MECHANISMS.join(", ")} (plain only over TLS); unset: no SASL`,
    schema: text
      .toLowerCase()
      .pipe(z.enum(KAFKA_SASL_MECHANISMS, { error: `is not one of ${KAFKA_SASL_MECHANISMS.join(", ")}` })),
  }),
  saslUsername: setting({ env: "KAFKA_SASL_USERNAME", description: "the SASL user", schema: text }),
  saslPassword: saslPassword.value,
  saslPasswordFile: saslPassword.file,
});

/** How the workers protect and authenticate their PostgreSQL connections (sslmode goes in the URL). */
export const DATABASE_SECURITY_SETTINGS = Object.freeze({
  sslMode: setting({
    env: "PGSSLMODE",
    description: `libpq's sslmode when DATABASE_URL has none: ${DATABASE_SSL_MODES.join(", ")}`,
    default: "disable",
    schema: text,
  }),
  caFile: setting({
    env: "DATABASE_SSL_CA_FILE",
    value: "PATH",
    description:
      "root certificate (PEM) to verify the server with, or `system`; with it, sslmode=require verifies like verify-ca",
    schema: text,
  }),
  rootCert: setting({
    env: "PGSSLROOTCERT",
    value: "PATH",
    description: "libpq's name for DATABASE_SSL_CA_FILE (sslrootcert= in the URL wins over both)",
    schema: text,
  }),
  password: databasePassword.value,
  passwordFile: databasePassword.file,
});

/** A secret file's content without the trailing newline editors and `echo` add. */
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
 * The secret of a pair read with secretSettings: the value, or the content of the file; both set
 * is a mistake. Problems are pushed, so the caller reports them with every other setting's.
 */
export function secretFrom(
  pair: { readonly value: string | undefined; readonly file: string | undefined },
  env: string,
  problems: ConfigProblem[],
): string | undefined {
  if (pair.value !== undefined && pair.value !== "" && pair.file !== undefined) {
    problems.push({ setting: env, message: `set either ${env} or ${env}_FILE, not both` });
    return undefined;
  }
  if (pair.file !== undefined) return readSecretFile(`${env}_FILE`, pair.file, problems, "the secret");
  return pair.value === "" ? undefined : pair.value;
}

function readPem(setting: string, path: string, problems: ConfigProblem[]): string | undefined {
  const pem = readSecretFile(setting, path, problems, "PEM certificates", true);
  if (pem !== undefined && pem !== "" && !pem.includes("-----BEGIN CERTIFICATE-----")) {
    problems.push({ setting, message: `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
    return undefined;
  }
  return pem;
}

/**
 * Kafka's TLS and SASL from the values of KAFKA_SECURITY_SETTINGS, with the checks that span
 * several of them. Problems are pushed, not thrown, so the caller reports them with every other
 * setting's.
 */
export function readKafkaSecurity(
  values: Partial<SettingValues<typeof KAFKA_SECURITY_SETTINGS>>,
  problems: ConfigProblem[],
): KafkaSecurity {
  const { caFile } = values;
  if (caFile !== undefined && values.ssl === false) {
    problems.push({ setting: "KAFKA_SSL_CA_FILE", message: "is set but KAFKA_SSL=false; drop one of them" });
  }
  // A CA file only makes sense with TLS, so it turns TLS on by itself.
  const sslOn = values.ssl ?? caFile !== undefined;
  const ca = caFile !== undefined ? readPem("KAFKA_SSL_CA_FILE", caFile, problems) : undefined;
  const rejectUnauthorized = values.rejectUnauthorized ?? true;
  const tls: KafkaTls | null = sslOn
    ? Object.freeze(ca !== undefined ? { ca, rejectUnauthorized } : { rejectUnauthorized })
    : null;

  const mechanism = values.saslMechanism;
  const mechanismGiven =
    mechanism !== undefined || problems.some((p) => p.setting === "KAFKA_SASL_MECHANISM");
  const username = values.saslUsername === "" ? undefined : values.saslUsername;
  const password = secretFrom(
    { value: values.saslPassword, file: values.saslPasswordFile },
    "KAFKA_SASL_PASSWORD",
    problems,
  );
  if (!mechanismGiven) {
    if (username !== undefined || password !== undefined) {
      problems.push({
        setting: "KAFKA_SASL_MECHANISM",
        message: `is not set but a SASL username or password is; set it to one of ${KAFKA_SASL_MECHANISMS.join(", ")}`,
      });
    }
    return Object.freeze({ tls, sasl: null });
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
 * How to reach PostgreSQL securely: sslmode from the URL (else PGSSLMODE, else disable), the root
 * certificate from the URL's sslrootcert, DATABASE_SSL_CA_FILE or PGSSLROOTCERT, and the password
 * from DATABASE_PASSWORD or DATABASE_PASSWORD_FILE (else the URL's). Returns the URL without
 * libpq's certificate-file parameters, which postgres.js would send to the server as settings.
 */
export function readDatabaseSecurity(
  databaseUrl: string,
  values: Partial<SettingValues<typeof DATABASE_SECURITY_SETTINGS>>,
  problems: ConfigProblem[],
): { url: string; security: DatabaseSecurity } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return { url: databaseUrl, security: Object.freeze({ sslMode: "disable" }) };
  }
  const inUrl = (name: string) => {
    const value = url.searchParams.get(name)?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const modeRaw = inUrl("sslmode") ?? values.sslMode;
  const sslMode = DATABASE_SSL_MODES.find((m) => m === (modeRaw ?? "disable"));
  if (sslMode === undefined) {
    problems.push({
      setting: "DATABASE_URL",
      message: `sslmode "${modeRaw}" is not one of ${DATABASE_SSL_MODES.join(", ")}`,
    });
  }
  const rootCertInUrl = inUrl("sslrootcert");
  let stripped = databaseUrl;
  if (LIBPQ_TLS_FILE_PARAMETERS.some((name) => url.searchParams.has(name))) {
    for (const name of LIBPQ_TLS_FILE_PARAMETERS) url.searchParams.delete(name);
    stripped = url.toString();
  }
  const caSetting =
    rootCertInUrl !== undefined
      ? "DATABASE_URL sslrootcert"
      : values.caFile !== undefined
        ? "DATABASE_SSL_CA_FILE"
        : "PGSSLROOTCERT";
  const caFile = rootCertInUrl ?? values.caFile ?? values.rootCert;
  // sslrootcert=system means "the system's roots, and verify the host name" in libpq 16+.
  const systemRoots = caFile === "system";
  const ca = caFile !== undefined && !systemRoots ? readPem(caSetting, caFile, problems) : undefined;
  const password = secretFrom(
    { value: values.password, file: values.passwordFile },
    "DATABASE_PASSWORD",
    problems,
  );

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
