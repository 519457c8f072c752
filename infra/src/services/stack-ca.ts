import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { STACK_HOST } from "../context.ts";
import type { StackPaths } from "../paths.ts";
import { ensureRandomSecret, ensureSecretsDir, runTool } from "../secrets.ts";

/**
 * The stack's own certificate authority, made with openssl (Debian's ca-certificates, and so every
 * JDK package, depends on it): one CA per stack folder, and the certificates it signs for the
 * stack's servers (Kafka's TLS listeners, the registry's nginx) and for a client (mutual TLS with
 * the registry). Clients trust `ca.pem` alone, for every service. Made once; later starts reuse
 * them, so a client holding the CA keeps working across restarts.
 */
export interface StackCaFiles {
  /** The CA's certificate: what clients trust (KAFKA_SSL_CA_FILE, the registry's CA file). */
  readonly caCert: string;
  readonly caKey: string;
  /** The servers' certificate: CN localhost, for localhost and 127.0.0.1. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate (CN weather-client), for the registry's mutual-TLS port. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** The server certificate, key and CA as a PKCS12 keystore, for Kafka. */
  readonly serverKeystore: string;
  readonly serverKeystorePasswordFile: string;
}

export const CLIENT_CERT_SUBJECT = "weather-client";

export function stackCaFiles(paths: StackPaths): StackCaFiles {
  const dir = paths.secrets;
  return {
    caCert: join(dir, "ca.pem"),
    caKey: join(dir, "ca.key"),
    serverCert: join(dir, "server.pem"),
    serverKey: join(dir, "server.key"),
    clientCert: join(dir, "client.pem"),
    clientKey: join(dir, "client.key"),
    serverKeystore: join(dir, "server.p12"),
    serverKeystorePasswordFile: join(dir, "server.p12.password"),
  };
}

const OPENSSL_HINT = "install it: apt-get install openssl (it comes with ca-certificates on Debian)";

function openssl(service: string, args: readonly string[], what: string, input?: string): string {
  return runTool(service, "openssl", args, what, {
    hint: OPENSSL_HINT,
    ...(input !== undefined ? { input } : {}),
  });
}

/** An openssl configuration file holding only `section`, for the extensions of one certificate. */
function extensionsFile(dir: string, name: string, lines: readonly string[]): string {
  const file = join(dir, `.${name}.cnf`);
  writeFileSync(file, ["[ext]", ...lines, ""].join("\n"), { mode: 0o600 });
  return file;
}

function serial(): string {
  return `0x${randomBytes(12).toString("hex")}`;
}

function makeCa(service: string, files: StackCaFiles, dir: string): void {
  const config = extensionsFile(dir, "ca", [
    "basicConstraints = critical, CA:TRUE, pathlen:0",
    "keyUsage = critical, keyCertSign, cRLSign",
    "subjectKeyIdentifier = hash",
  ]);
  try {
    openssl(
      service,
      [
        "req",
        "-x509",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        files.caKey,
        "-out",
        files.caCert,
        "-days",
        "3650",
        "-set_serial",
        serial(),
        "-subj",
        "/O=weather-streaming/CN=weather-streaming local stack CA",
        "-config",
        config,
        "-extensions",
        "ext",
      ],
      "making the stack's CA (openssl req -x509)",
    );
  } finally {
    rmSync(config, { force: true });
  }
}

function signLeaf(
  service: string,
  files: StackCaFiles,
  dir: string,
  leaf: { cert: string; key: string; subject: string; extensions: readonly string[] },
): void {
  const request = `${leaf.cert}.csr`;
  const extensions = extensionsFile(dir, "leaf", [
    "basicConstraints = critical, CA:FALSE",
    "keyUsage = critical, digitalSignature, keyEncipherment",
    "authorityKeyIdentifier = keyid",
    ...leaf.extensions,
  ]);
  try {
    openssl(
      service,
      [
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        leaf.key,
        "-out",
        request,
        "-subj",
        leaf.subject,
      ],
      `making a key for ${leaf.subject} (openssl req)`,
    );
    openssl(
      service,
      [
        "x509",
        "-req",
        "-in",
        request,
        "-CA",
        files.caCert,
        "-CAkey",
        files.caKey,
        "-set_serial",
        serial(),
        "-days",
        "825",
        "-sha256",
        "-extfile",
        extensions,
        "-extensions",
        "ext",
        "-out",
        leaf.cert,
      ],
      `signing the certificate of ${leaf.subject} with the stack's CA (openssl x509 -req)`,
    );
  } finally {
    rmSync(request, { force: true });
    rmSync(extensions, { force: true });
  }
}

/**
 * Makes whatever of the CA, the server and client certificates and the server keystore is
 * missing. A new CA re-signs everything, so the files always belong together.
 */
export function ensureStackCa(service: string, paths: StackPaths): StackCaFiles {
  const files = stackCaFiles(paths);
  const dir = ensureSecretsDir(paths);
  const freshCa = !existsSync(files.caCert) || !existsSync(files.caKey);
  if (freshCa) makeCa(service, files, dir);
  if (freshCa || !existsSync(files.serverCert) || !existsSync(files.serverKey)) {
    signLeaf(service, files, dir, {
      cert: files.serverCert,
      key: files.serverKey,
      subject: "/O=weather-streaming/CN=localhost",
      extensions: [
        `subjectAltName = DNS:localhost, IP:${STACK_HOST}`,
        // Kafka's nodes are clients of one another (replication, the controller quorum).
        "extendedKeyUsage = serverAuth, clientAuth",
      ],
    });
    rmSync(files.serverKeystore, { force: true });
  }
  if (freshCa || !existsSync(files.clientCert) || !existsSync(files.clientKey)) {
    signLeaf(service, files, dir, {
      cert: files.clientCert,
      key: files.clientKey,
      subject: `/O=weather-streaming/CN=${CLIENT_CERT_SUBJECT}`,
      extensions: ["extendedKeyUsage = clientAuth"],
    });
  }
  if (!existsSync(files.serverKeystore)) {
    ensureRandomSecret(files.serverKeystorePasswordFile);
    openssl(
      service,
      [
        "pkcs12",
        "-export",
        "-in",
        files.serverCert,
        "-inkey",
        files.serverKey,
        "-certfile",
        files.caCert,
        "-name",
        "server",
        "-passout",
        `file:${files.serverKeystorePasswordFile}`,
        "-out",
        files.serverKeystore,
      ],
      "packing the server certificate into a PKCS12 keystore for Kafka (openssl pkcs12)",
    );
  }
  // openssl writes with the umask; a key, a keystore or a password is for the stack's user alone.
  for (const file of Object.values(files)) chmodSync(file, 0o600);
  return files;
}
