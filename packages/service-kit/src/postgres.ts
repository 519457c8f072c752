import type { ConnectionOptions } from "node:tls";
import type { PostgresConnection } from "./postgres-connection.ts";

/** The postgres.js options that carry TLS and the password; spread them into every postgres() call. */
export interface PostgresSecurityOptions {
  ssl: false | "prefer" | "require" | ConnectionOptions;
  pass?: string;
}

/**
 * Maps libpq's sslmode onto postgres.js: disable -> no TLS; allow/prefer -> TLS when the server
 * offers it, unverified; require -> TLS, unverified; verify-ca -> the chain must lead to the root
 * certificate, any host name; verify-full -> chain and host name. postgres.js itself would treat
 * verify-ca as verify-full and ignore sslrootcert, hence the explicit mapping.
 */
export function postgresOptions(connection: PostgresConnection): PostgresSecurityOptions {
  const { security } = connection;
  // postgres.js names no server for an IP address, and Node then checks the certificate against
  // "localhost": give verify-full the URL's host to check against.
  const host = hostOf(connection.url);
  const ca = security.ca !== undefined ? { ca: security.ca } : {};
  const pass = security.password !== undefined ? { pass: security.password } : {};
  switch (security.sslMode) {
    case "disable":
      return { ssl: false, ...pass };
    case "allow":
    case "prefer":
      return { ssl: "prefer", ...pass };
    case "require":
      return { ssl: "require", ...pass };
    case "verify-ca":
      return { ssl: { rejectUnauthorized: true, ...ca, checkServerIdentity: () => undefined }, ...pass };
    case "verify-full":
      return { ssl: { rejectUnauthorized: true, ...ca, ...host }, ...pass };
  }
}

function hostOf(url: string): { host?: string } {
  try {
    const hostname = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
    return hostname ? { host: hostname } : {};
  } catch {
    return {};
  }
}

/** A URL with its password masked, fit for a log line or an error message (maskUrlPasswords for free text). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
