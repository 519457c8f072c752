import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { CONFLUENT_COMPAT_PATH, LOCAL_STACK } from "@weather/service-kit";
import {
  bringUp,
  logFileOf,
  observeService,
  type ServiceStatus,
  STACK_HOST,
  type StackContext,
} from "../context.ts";
import { daemonState, startDaemon } from "../daemon.ts";
import { ensureNginx } from "../nginx.ts";
import type { StackPaths } from "../paths.ts";
import { ensureRandomSecret, readSecret, runTool, writeSecret } from "../secrets.ts";
import { StackError } from "../stack-error.ts";
import { type RegistryLayout, registryLayoutOf } from "./registry.ts";
import { ensureStackCa, type StackCaFiles, stackCaFiles } from "./stack-ca.ts";

/**
 * `pnpm stack up --secure` puts the schema registry behind nginx: TLS with a certificate of the
 * stack's CA, and authentication nginx enforces before a request reaches Apicurio.
 *
 * - `tls` port (8443): HTTP basic auth (user LOCAL_STACK.registryUser, password in a file, checked
 *   against an htpasswd file) or `Authorization: Bearer <token>` (the token in a file). A map turns
 *   basic auth off for a request carrying the token, so either one is enough; anything else is a 401.
 * - `mtls` port (8444): a client certificate the stack's CA signed (mutual TLS), and nothing else;
 *   without one, or with another CA's, a 401.
 *
 * Apicurio itself keeps its plain port on 127.0.0.1 (8081): the proxy's upstream, and the stack's
 * health probe. Any local process can still reach it; on a shared host that plain port is the
 * trade-off of a local stack (see docs/local-stack.md). The proxy fronts whatever answers there,
 * the stack's registry or one it found running. The Authorization header is not passed on.
 */
export const REGISTRY_PROXY = "registry-proxy";

/** The registry's credentials under --secure, each in a 0600 file of the stack's secrets folder. */
export interface RegistryCredentialFiles {
  readonly user: string;
  readonly passwordFile: string;
  /** `user:hash` (SHA-512 crypt) for nginx's auth_basic; made from passwordFile at every `up`. */
  readonly htpasswdFile: string;
  /** The bearer token; edit it and run `pnpm stack up --secure` again to rotate it. */
  readonly tokenFile: string;
}

export function registryCredentialFiles(paths: StackPaths): RegistryCredentialFiles {
  return {
    user: LOCAL_STACK.registryUser,
    passwordFile: join(paths.secrets, "registry.password"),
    htpasswdFile: join(paths.secrets, "registry.htpasswd"),
    tokenFile: join(paths.secrets, "registry.token"),
  };
}

/** What a bearer token may hold here: RFC 6750's b64token. */
const TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]+=*$/;

function ensureCredentials(paths: StackPaths): RegistryCredentialFiles {
  const files = registryCredentialFiles(paths);
  const password = ensureRandomSecret(files.passwordFile);
  const token = ensureRandomSecret(files.tokenFile);
  if (!TOKEN_PATTERN.test(token)) {
    throw new StackError(
      REGISTRY_PROXY,
      `the bearer token in ${files.tokenFile} holds characters a token may not (RFC 6750: letters, digits, -._~+/ and trailing =)`,
      undefined,
      `write another token there, or delete the file for a random one`,
    );
  }
  const hash = runTool(
    REGISTRY_PROXY,
    "openssl",
    ["passwd", "-6", "-stdin"],
    "hashing the registry password (openssl passwd -6)",
    { input: `${password}\n` },
  ).trim();
  writeSecret(files.htpasswdFile, `${files.user}:${hash}`);
  return files;
}

function dataDirOf(paths: StackPaths): string {
  return join(paths.data, REGISTRY_PROXY);
}

function configFileOf(paths: StackPaths): string {
  return join(dataDirOf(paths), "nginx.conf");
}

/**
 * nginx's configuration: 0600, since the map holds the token. Temporary files and nginx's own pid
 * file stay in the proxy's data folder, so nothing of the system's nginx is used or touched. Run as
 * root, nginx's workers stay root: they read the htpasswd file under the stack folder, which other
 * users may not be able to enter (as the stack's other servers, it listens on 127.0.0.1 only).
 */
export function nginxConfig(options: {
  readonly dataDir: string;
  readonly ca: StackCaFiles;
  readonly credentials: RegistryCredentialFiles;
  readonly token: string;
  readonly layout: RegistryLayout;
  readonly asRoot: boolean;
}): string {
  const { dataDir, ca, credentials, layout } = options;
  const token = options.token.replaceAll(/[.+]/g, (c) => `\\${c}`);
  const temp = (name: string) => `${name}_temp_path ${join(dataDir, "tmp", name)};`;
  const proxied = [
    "    location / {",
    "      proxy_pass http://apicurio;",
    "      proxy_http_version 1.1;",
    '      proxy_set_header Connection "";',
    '      proxy_set_header Authorization "";',
    "      proxy_set_header Host $http_host;",
    "      proxy_set_header X-Forwarded-Proto https;",
    "    }",
  ];
  return [
    "# Written by pnpm stack up --secure (infra/src/services/registry-proxy.ts); holds the token: 0600.",
    "daemon off;",
    ...(options.asRoot ? ["user root root;"] : []),
    "worker_processes 1;",
    `pid ${join(dataDir, "nginx.pid")};`,
    "error_log stderr notice;",
    "events { worker_connections 256; }",
    "http {",
    "  log_format registry '$remote_addr $server_port $remote_user [$time_local] \"$request\" $status $body_bytes_sent $request_time';",
    "  access_log /dev/stderr registry;",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((name) => `  ${temp(name)}`),
    "  client_max_body_size 16m;",
    "  client_body_buffer_size 1m;",
    "  proxy_max_temp_file_size 0;",
    "  default_type text/plain;",
    `  ssl_certificate ${ca.serverCert};`,
    `  ssl_certificate_key ${ca.serverKey};`,
    "  ssl_protocols TLSv1.2 TLSv1.3;",
    "  # The bearer token turns basic auth off for its request; any other request needs basic auth.",
    "  map $http_authorization $registry_realm {",
    `    "~^[Bb][Ee][Aa][Rr][Ee][Rr] +${token}$" off;`,
    '    default "weather schema registry";',
    "  }",
    `  upstream apicurio { server ${STACK_HOST}:${layout.ports.http}; keepalive 4; }`,
    "  server {",
    `    listen ${STACK_HOST}:${layout.proxy.tls} ssl;`,
    "    auth_basic $registry_realm;",
    `    auth_basic_user_file ${credentials.htpasswdFile};`,
    ...proxied,
    "  }",
    "  server {",
    `    listen ${STACK_HOST}:${layout.proxy.mtls} ssl;`,
    `    ssl_client_certificate ${ca.caCert};`,
    "    ssl_verify_client optional;",
    "    ssl_verify_depth 1;",
    "    if ($ssl_client_verify != SUCCESS) {",
    '      return 401 "a client certificate signed by the stack\'s CA is required here\\n";',
    "    }",
    "    # A certificate another CA signed: nginx's own answer would be 400; it is a refusal too.",
    "    error_page 495 = @untrusted;",
    "    location @untrusted {",
    '      return 401 "the client certificate is not signed by the stack\'s CA\\n";',
    "    }",
    ...proxied,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** What an HTTPS request to the proxy answered. */
export interface ProxyAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * One HTTPS request, trusting `ca` (and presenting a client certificate when given): the stack's
 * probe of the proxy, and the tests'. Node's fetch cannot be given a CA per request.
 */
export function httpsRequest(
  url: string,
  options: {
    readonly ca: string;
    readonly headers?: Record<string, string>;
    readonly cert?: string;
    readonly key?: string;
    readonly method?: string;
    readonly body?: string;
    readonly timeoutMs?: number;
  },
): Promise<ProxyAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        ca: options.ca,
        ...(options.cert !== undefined ? { cert: options.cert } : {}),
        ...(options.key !== undefined ? { key: options.key } : {}),
        headers: options.headers ?? {},
        timeout: options.timeoutMs ?? 5_000,
        agent: false,
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        response.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs ?? 5_000} ms`)),
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Ready when the registry answers through the proxy, over TLS with the bearer token. */
async function probeProxy(context: StackContext): Promise<string | true> {
  const ca = stackCaFiles(context.paths);
  const { tokenFile } = registryCredentialFiles(context.paths);
  if (!existsSync(ca.caCert) || !existsSync(tokenFile)) return "no certificate or token yet";
  try {
    const answer = await httpsRequest(`${registryLayoutOf(context).tlsUrl}/subjects`, {
      ca: readFileSync(ca.caCert, "utf8"),
      headers: { Authorization: `Bearer ${readSecret(tokenFile)}` },
      timeoutMs: 3_000,
    });
    return answer.status === 200
      ? true
      : `GET ${CONFLUENT_COMPAT_PATH}/subjects through the proxy answered ${answer.status}`;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
}

/**
 * Writes the proxy's configuration and starts nginx, or, if it runs already and the configuration
 * changed (a new token), tells it to reload (SIGHUP). The registry must answer already.
 */
export async function registryProxyUp(context: StackContext): Promise<ServiceStatus> {
  const { paths } = context;
  const layout = registryLayoutOf(context);
  const ca = ensureStackCa(REGISTRY_PROXY, paths);
  const credentials = ensureCredentials(paths);
  const dataDir = dataDirOf(paths);
  for (const dir of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
    mkdirSync(join(dataDir, "tmp", dir), { recursive: true, mode: 0o700 });
  const configFile = configFileOf(paths);
  const config = nginxConfig({
    dataDir,
    ca,
    credentials,
    token: readSecret(credentials.tokenFile),
    layout,
    asRoot: process.getuid?.() === 0,
  });
  const changed = !existsSync(configFile) || readFileSync(configFile, "utf8") !== config;
  if (changed) writeSecret(configFile, config);
  const ours = daemonState(paths.run, REGISTRY_PROXY);
  if (changed && ours.kind === "running") {
    process.kill(ours.pid, "SIGHUP");
    context.log(`${REGISTRY_PROXY}: configuration changed (a new token?); nginx reloads it`);
  }
  const state = await bringUp({
    name: REGISTRY_PROXY,
    paths,
    probe: () => probeProxy(context),
    start: async () => {
      const nginx = await ensureNginx(REGISTRY_PROXY, process.env, context.log);
      return startDaemon(paths.run, {
        name: REGISTRY_PROXY,
        command: nginx.executable,
        args: ["-e", "stderr", "-p", dataDir, "-c", configFile],
        cwd: dataDir,
        logFile: logFileOf(paths, REGISTRY_PROXY),
        marker: configFile,
      });
    },
    readyWithinMs: 30_000,
    log: context.log,
  });
  if (state.kind === "external") {
    throw new StackError(
      REGISTRY_PROXY,
      `${layout.tlsUrl} already answers, but not as this stack's proxy`,
      undefined,
      `stop whatever listens on ${layout.proxy.tls}, or move the proxy: STACK_REGISTRY_PROXY_PORT=<port>`,
    );
  }
  return {
    name: REGISTRY_PROXY,
    address: proxyAddress(layout),
    state,
    logFile: logFileOf(paths, REGISTRY_PROXY),
  };
}

function proxyAddress(layout: RegistryLayout): string {
  return `${layout.tlsUrl} (basic auth or bearer token; client certificate: ${layout.mtlsUrl})`;
}

/** The proxy's state, shown when the stack is locked down or the proxy still runs. */
export async function registryProxyStatus(context: StackContext): Promise<ServiceStatus[]> {
  if (!context.kafka.lockedDown && daemonState(context.paths.run, REGISTRY_PROXY).kind === "absent")
    return [];
  return [
    await observeService({
      name: REGISTRY_PROXY,
      address: proxyAddress(registryLayoutOf(context)),
      paths: context.paths,
      probe: () => probeProxy(context),
    }),
  ];
}
