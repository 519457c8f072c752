import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TLSSocket } from "node:tls";
import { POSTGRES_CONNECTION, postgresOptions } from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectOnce } from "../src/index.ts";

/**
 * sslmode as the workers honour it, against a stand-in server: it answers PostgreSQL's SSLRequest
 * with "S", completes the TLS handshake with a self-signed certificate for db.example, then answers
 * the startup message with an error (28000 "handshake passed"). A handshake that fails names the
 * certificate instead.
 */
const dir = mkdtempSync(join(tmpdir(), "weather-db-tls-"));
const keyFile = join(dir, "key.pem");
const certFile = join(dir, "cert.pem");
let server: Server;
let port = 0;

beforeAll(async () => {
  const made = spawnSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=db.example",
    "-addext", "subjectAltName=DNS:db.example", "-addext", "basicConstraints=critical,CA:TRUE",
    "-keyout", keyFile, "-out", certFile,
  ]); // biome-ignore format: one openssl command line
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  const key = readFileSync(keyFile);
  const cert = readFileSync(certFile);
  server = createServer((socket) => {
    socket.once("data", () => {
      socket.write("S");
      const tls = new TLSSocket(socket, { isServer: true, key, cert });
      tls.once("data", () => tls.end(errorResponse("28000", "handshake passed")));
      tls.on("error", () => socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

/** A PostgreSQL ErrorResponse message: 'E', length, then severity, code and message fields. */
function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0C${code}\0M${message}\0\0`);
  const header = Buffer.alloc(5);
  header.write("E");
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function attempt(env: Record<string, string>): Promise<string> {
  const { postgres } = configurationOf(
    { groups: { postgres: POSTGRES_CONNECTION } },
    { DATABASE_URL: `postgres://u@127.0.0.1:${port}/db`, ...env },
  );
  const sql = connectOnce(postgres.url, postgresOptions(postgres));
  try {
    await sql`select 1`;
    return "answered";
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return `${code ?? ""} ${message}`;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

describe("PostgreSQL over TLS, by sslmode", () => {
  it("require encrypts without verifying", async () => {
    expect(await attempt({ DATABASE_URL: `postgres://u@127.0.0.1:${port}/db?sslmode=require` })).toMatch(
      /28000 handshake passed/,
    );
  });

  it("verify-ca accepts a certificate signed by the given root, whatever its host name", async () => {
    expect(
      await attempt({
        DATABASE_URL: `postgres://u@127.0.0.1:${port}/db?sslmode=verify-ca&sslrootcert=${certFile}`,
      }),
    ).toMatch(/28000 handshake passed/);
  });

  it("verify-full also checks the host name against the certificate", async () => {
    expect(
      await attempt({
        DATABASE_URL: `postgres://u@127.0.0.1:${port}/db?sslmode=verify-full`,
        DATABASE_SSL_CA_FILE: certFile,
      }),
    ).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID|does not match|not in the cert's list/i);
  });

  it("verify-ca without the root refuses the self-signed certificate", async () => {
    expect(await attempt({ DATABASE_URL: `postgres://u@127.0.0.1:${port}/db?sslmode=verify-ca` })).toMatch(
      /SELF_SIGNED|self.signed/i,
    );
  });
});
