/**
 * Where the product's PostgreSQL database is and how to reach it securely: the PostgreSQL
 * connection group, and its value, which postgresOptions turns into postgres.js's options.
 */
import { defineSettingsGroup, setting } from "@weather/settings";
import { z } from "zod";
import { DEFAULT_DATABASE_URL } from "./local-stack.ts";
import { readPem, secretFrom, secretSettings } from "./secrets.ts";

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

/** The PostgreSQL connection group's value: use with postgresOptions. Holds secrets: never log it. */
export interface PostgresConnection {
  /**
   * postgres:// URL of the product's database, without libpq's certificate-file parameters
   * (sslrootcert and friends: they are in `security`). May hold a password: log it only through
   * redactUrl.
   */
  readonly url: string;
  /** TLS mode, root certificate and password. */
  readonly security: DatabaseSecurity;
}

/** Query parameters libpq understands but postgres.js would forward to the server as settings. */
const LIBPQ_TLS_FILE_PARAMETERS = ["sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword"];

const text = z.string().trim();

/**
 * The PostgreSQL connection group, with `defaultUrl` as DATABASE_URL's default (the dashboard's is
 * the read-only role's).
 */
export function postgresConnectionGroup(defaultUrl: string) {
  const password = secretSettings(
    "DATABASE_PASSWORD",
    "the PostgreSQL password, instead of the one in DATABASE_URL",
  );
  return defineSettingsGroup({
    title: "PostgreSQL",
    settings: {
      url: setting({
        env: "DATABASE_URL",
        value: "URL",
        description:
          "the product's PostgreSQL database (bootstrap creates it); may carry sslmode and sslrootcert",
        default: defaultUrl,
        schema: z.url({
          protocol: /^postgres(ql)?$/,
          error: `must be a postgres:// URL, e.g. ${DEFAULT_DATABASE_URL}`,
        }),
      }),
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
      password: password.value,
      passwordFile: password.file,
    },
    /**
     * sslmode from the URL (else PGSSLMODE, else disable), the root certificate from the URL's
     * sslrootcert, DATABASE_SSL_CA_FILE or PGSSLROOTCERT, the password from DATABASE_PASSWORD or
     * DATABASE_PASSWORD_FILE (else the URL's); the URL without libpq's certificate-file parameters.
     */
    read(values, { problems }): PostgresConnection {
      // A DATABASE_URL that did not parse holds the default here: the other checks still run.
      const url = new URL(values.url);
      const inUrl = (name: string) => {
        const value = url.searchParams.get(name)?.trim();
        return value === undefined || value === "" ? undefined : value;
      };
      const modeRaw = inUrl("sslmode") ?? values.sslMode;
      const sslMode = DATABASE_SSL_MODES.find((m) => m === modeRaw);
      if (sslMode === undefined) {
        problems.push({
          setting: "DATABASE_URL",
          message: `sslmode "${modeRaw}" is not one of ${DATABASE_SSL_MODES.join(", ")}`,
        });
      }
      const rootCertInUrl = inUrl("sslrootcert");
      let stripped = values.url;
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
      const secret = secretFrom(
        { value: values.password, file: values.passwordFile },
        "DATABASE_PASSWORD",
        problems,
      );

      // libpq: with a root certificate, require behaves like verify-ca.
      let mode: DatabaseSslMode = sslMode ?? "disable";
      if (systemRoots) mode = "verify-full";
      else if (mode === "require" && ca !== undefined) mode = "verify-ca";
      return Object.freeze({
        url: stripped,
        security: Object.freeze({
          sslMode: mode,
          ...(ca !== undefined ? { ca } : {}),
          ...(secret !== undefined ? { password: secret } : {}),
        }),
      });
    },
  });
}

/** The product's database, by default the local stack's as the superuser. */
export const POSTGRES_CONNECTION = postgresConnectionGroup(DEFAULT_DATABASE_URL);
