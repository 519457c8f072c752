/**
 * The one answer, for each dependency, to "what went wrong?": an outage to wait out, a refusal
 * (the service answered "no" to who we are: credentials, permissions, TLS trust), something
 * bootstrap has not created yet, or anything else. Judged on the error's structure along its
 * `cause` chain: SQLSTATE classes and codes, Node's and the drivers' error codes, kafkajs's error
 * classes with their protocol type and `retriable` flag, TLS verification codes, HTTP statuses;
 * never on message text or stack frames. Each caller decides what a kind means to it: the sink
 * waits out outages and what is missing, bootstrap's probes give up at once on a refusal or
 * something missing, a one-shot worker ends with DEPENDENCY_UNAVAILABLE (asDependencyFailure).
 */
import kafkajs from "kafkajs";
import { type Dependency, DependencyUnavailableError } from "./errors.ts";

// kafkajs spreads its errors into module.exports, which Node's named CommonJS imports cannot see.
const { KafkaJSError } = kafkajs;

/**
 * - outage: the service is away, restarting, overloaded or failing over; waiting fixes it.
 * - refused: the service answered and said no (credentials, permissions, TLS trust); the
 *   configuration must change.
 * - missing: the service answered, but what the product needs there (database, tables, a month's
 *   partition, the topic, a subject) does not exist yet; bootstrap creates it.
 * - other: anything else, such as a bug or a statement the server rejects.
 */
export type FailureKind = "outage" | "refused" | "missing" | "other";

export interface Failure {
  readonly dependency: Dependency;
  readonly kind: FailureKind;
  /**
   * What the judgement rests on: a SQLSTATE, a Node or driver code, a kafkajs error class or
   * protocol type, a TLS code, "HTTP 503"; undefined when nothing in the error was recognised.
   */
  readonly code: string | undefined;
  /** One line for the operator: what to check or run. */
  readonly hint: string;
}

/** postgres.js's codes for a connection it lost, could not open in time, or was told to end. */
const POSTGRES_JS_CONNECTION_CODES = [
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
];

/** The one list of codes of a connection that could not be made or broke: Node's, undici's (fetch), postgres.js's. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  ...POSTGRES_JS_CONNECTION_CODES,
]);

/** Node's codes for a server certificate this client does not trust. */
const TLS_TRUST_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_REVOKED",
  "CERT_SIGNATURE_FAILURE",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * SQLSTATE classes of an outage: connection exceptions (08), transaction rollbacks such as
 * serialization failures and deadlocks (40), insufficient resources (53), operator intervention
 * such as pg_terminate_backend, a shutdown or a server still starting (57, incl. 57P01-57P03),
 * and system errors (58).
 */
const OUTAGE_CLASSES = new Set(["08", "40", "53", "57", "58"]);
/** read_only_sql_transaction: the server is a standby now, i.e. a failover is under way. */
const READ_ONLY_TRANSACTION = "25006";
/** Class 28 (invalid authorization: no such role, wrong password) and insufficient_privilege. */
const REFUSED_CLASS = "28";
const INSUFFICIENT_PRIVILEGE = "42501";
const UNDEFINED_DATABASE = "3D000";
const UNDEFINED_TABLE = "42P01";
/**
 * check_violation. Without a constraint name it is "no partition of relation found for row" (the
 * product declares no CHECK constraints): a month's partition not created yet, or dropped between
 * the sink's look and its insert.
 */
const CHECK_VIOLATION = "23514";
/** postgres.js's codes for an authentication the server asked for and the client could not complete. */
const POSTGRES_AUTH_CODES = new Set(["SASL_SIGNATURE_MISMATCH", "AUTH_TYPE_NOT_IMPLEMENTED"]);

/** kafkajs protocol error types that mean Kafka refused who we are or what we may do. */
const KAFKA_REFUSED_TYPES = new Set([
  "SASL_AUTHENTICATION_FAILED",
  "UNSUPPORTED_SASL_MECHANISM",
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  "DELEGATION_TOKEN_AUTHORIZATION_FAILED",
]);
const KAFKA_MISSING_TYPES = new Set(["UNKNOWN_TOPIC_OR_PARTITION"]);
/**
 * kafkajs errors that are outages although kafkajs marks them not retriable: its retries ran out
 * on a retriable condition (so the condition lasts), or it gave up waiting for a broker or lock.
 */
const KAFKA_OUTAGE_CLASSES = new Set([
  "KafkaJSNumberOfRetriesExceeded",
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSTimeout",
  "KafkaJSLockTimeout",
]);

/** The fields of one error in a cause chain that a judgement may rest on. */
interface Layer {
  readonly name: string | undefined;
  readonly code: string | undefined;
  /** The code is a SQLSTATE, i.e. the layer is an error PostgreSQL sent. */
  readonly sqlstate: boolean;
  readonly type: string | undefined;
  readonly status: number | undefined;
  readonly retriable: boolean | undefined;
  readonly constraint: string | undefined;
  readonly kafkajs: boolean;
}

const MAX_DEPTH = 8;

/**
 * Five digits or capitals. No SQLSTATE class starts with E, which keeps Node's five-letter codes
 * (EPIPE, EPERM) apart.
 */
const SQLSTATE = /^[0-9A-DF-Z][0-9A-Z]{4}$/;

/** The error and its causes, outermost first (AggregateError: its first error too). */
function layersOf(error: unknown): Layer[] {
  const layers: Layer[] = [];
  let current = error;
  for (let depth = 0; depth < MAX_DEPTH && typeof current === "object" && current !== null; depth++) {
    const fields = current as Record<string, unknown>;
    const text = (key: string) => (typeof fields[key] === "string" ? (fields[key] as string) : undefined);
    layers.push({
      name: text("name"),
      code: text("code"),
      sqlstate: typeof fields.code === "string" && SQLSTATE.test(fields.code),
      type: text("type"),
      status: typeof fields.status === "number" ? fields.status : undefined,
      retriable: typeof fields.retriable === "boolean" ? fields.retriable : undefined,
      constraint: text("constraint_name"),
      kafkajs: current instanceof KafkaJSError,
    });
    const next = fields.cause ?? (current instanceof AggregateError ? current.errors[0] : undefined);
    if (next === current) break;
    current = next;
  }
  return layers;
}

interface Verdict {
  readonly kind: FailureKind;
  readonly code: string | undefined;
}

/** What one layer says by itself, if anything; undefined: nothing here to go on. */
function judgeLayer(layer: Layer): Verdict | undefined {
  const { code, type, status } = layer;
  if (code !== undefined) {
    if (TLS_TRUST_CODES.has(code)) return { kind: "refused", code };
    if (CONNECTION_CODES.has(code)) return { kind: "outage", code };
    if (POSTGRES_AUTH_CODES.has(code)) return { kind: "refused", code };
    if (layer.sqlstate) return { kind: sqlstateKind(code, layer.constraint), code };
  }
  if (type !== undefined) {
    if (KAFKA_REFUSED_TYPES.has(type)) return { kind: "refused", code: type };
    if (KAFKA_MISSING_TYPES.has(type)) return { kind: "missing", code: type };
  }
  if (layer.name === "KafkaJSSASLAuthenticationError") return { kind: "refused", code: layer.name };
  if (status !== undefined) {
    return { kind: httpKind(status, layer.name === "ResponseError"), code: `HTTP ${status}` };
  }
  return undefined;
}

function sqlstateKind(code: string, constraint: string | undefined): FailureKind {
  if (code === READ_ONLY_TRANSACTION || OUTAGE_CLASSES.has(code.slice(0, 2))) return "outage";
  if (code.startsWith(REFUSED_CLASS) || code === INSUFFICIENT_PRIVILEGE) return "refused";
  if (code === UNDEFINED_DATABASE || code === UNDEFINED_TABLE) return "missing";
  if (code === CHECK_VIOLATION && constraint === undefined) return "missing";
  return "other";
}

/**
 * An HTTP status: 401/403 refused; 404 missing (a subject, or the wrong URL path); 408, 429 and
 * 5xx an outage (Apicurio answers 503 while it starts). So is 400 from the registry client
 * (@kafkajs/confluent-schema-registry's ResponseError): it reports a request that got no answer at
 * all as status 400, keeping the socket error only in its message.
 */
function httpKind(status: number, fromRegistryClient: boolean): FailureKind {
  if (status === 401 || status === 403) return "refused";
  if (status === 404) return "missing";
  if (status === 408 || status === 429 || status >= 500) return "outage";
  if (status === 400 && fromRegistryClient) return "outage";
  return "other";
}

/** A judgement from the layers' kafkajs classes and flags, once no layer said more. */
function judgeKafkaClass(layers: readonly Layer[]): Verdict | undefined {
  for (const layer of layers) {
    if (layer.name !== undefined && KAFKA_OUTAGE_CLASSES.has(layer.name)) {
      return { kind: "outage", code: layer.name };
    }
    if (layer.kafkajs && layer.retriable === true) return { kind: "outage", code: layer.type ?? layer.name };
  }
  const kafkajs = layers.find((layer) => layer.kafkajs);
  return kafkajs === undefined ? undefined : { kind: "other", code: kafkajs.type ?? kafkajs.name };
}

/**
 * What kind of failure `error` is for `dependency`, with the code it rests on and a hint. A
 * refusal or something missing anywhere in the cause chain wins over an outage around it (kafkajs
 * wraps a certificate it does not trust in a connection error, then in "retries exceeded").
 */
export function classifyFailure(dependency: Dependency, error: unknown): Failure {
  const layers = layersOf(error);
  const verdicts = layers.map(judgeLayer).filter((verdict) => verdict !== undefined);
  const verdict =
    verdicts.find((v) => v.kind === "refused" || v.kind === "missing") ??
    verdicts.find((v) => v.kind === "outage") ??
    judgeKafkaClass(layers) ??
    verdicts[0] ??
    (layers.some((layer) => layer.name === "DependencyUnavailableError" || layer.name === "TimeoutError")
      ? { kind: "outage" as const, code: undefined }
      : { kind: "other" as const, code: undefined });
  return { dependency, ...verdict, hint: hintFor(dependency, verdict) };
}

/**
 * How a worker ends on `error` from `dependency`: DEPENDENCY_UNAVAILABLE with the hint, when it is
 * the dependency's outage, refusal or something missing; `error` itself otherwise (a bug).
 */
export function asDependencyFailure(dependency: Dependency, error: unknown): unknown {
  if (error instanceof DependencyUnavailableError) return error;
  const failure = classifyFailure(dependency, error);
  return failure.kind === "other" ? error : new DependencyUnavailableError(dependency, error, failure.hint);
}

/**
 * The dependency whose client raised `error`, recognised by its class and codes: kafkajs's
 * errors, PostgreSQL's SQLSTATEs and postgres.js's own codes, the registry client's HTTP errors.
 * Undefined for what any client could raise (a bare socket error) and for everything else.
 */
export function dependencyOf(error: unknown): Dependency | undefined {
  for (const layer of layersOf(error)) {
    if (layer.kafkajs) return "Kafka";
    const { code } = layer;
    if (
      layer.sqlstate ||
      (code !== undefined && (POSTGRES_AUTH_CODES.has(code) || POSTGRES_JS_CONNECTION_CODES.includes(code)))
    ) {
      return "PostgreSQL";
    }
    if (layer.name === "ResponseError" && layer.status !== undefined) return "schema registry";
  }
  return undefined;
}

const STACK = "locally: pnpm stack up";
const BOOTSTRAP = "pnpm --filter bootstrap start";

/** Each dependency as a hint names it, and where it is configured. */
const NAME: Record<Dependency, string> = {
  PostgreSQL: "PostgreSQL",
  Kafka: "Kafka",
  "schema registry": "the schema registry",
};
const SETTING: Record<Dependency, string> = {
  PostgreSQL: "DATABASE_URL",
  Kafka: "KAFKA_BROKERS",
  "schema registry": "SCHEMA_REGISTRY_URL",
};

const TLS_HINT: Record<Dependency, string> = {
  PostgreSQL:
    "the server's certificate is not trusted: set DATABASE_SSL_CA_FILE (or PGSSLROOTCERT) to its CA, or check PGSSLMODE",
  Kafka: "the broker's certificate is not trusted: set KAFKA_SSL_CA_FILE to its CA",
  "schema registry": "the registry's certificate is not trusted: give Node its CA (NODE_EXTRA_CA_CERTS)",
};

const PASSWORD_HINT = "check the user name and password in DATABASE_URL (or DATABASE_PASSWORD)";
const SASL_HINT =
  "Kafka refused the credentials: check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and its password";

/** Hints for particular codes; the kind's hint otherwise. */
const CODE_HINTS: Readonly<Record<string, string>> = {
  [READ_ONLY_TRANSACTION]:
    "the server is read-only (a standby, or a failover under way); DATABASE_URL must reach the primary",
  "53300": "PostgreSQL has no connection slot left (max_connections); close other clients or raise it",
  "28000": PASSWORD_HINT,
  "28P01": PASSWORD_HINT,
  [INSUFFICIENT_PRIVILEGE]: `the role in DATABASE_URL lacks a privilege; bootstrap grants the product's roles theirs: ${BOOTSTRAP}`,
  [UNDEFINED_DATABASE]: `the database in DATABASE_URL does not exist; bootstrap creates it: ${BOOTSTRAP}`,
  [UNDEFINED_TABLE]: `the product's tables do not exist (or are older than this worker); run bootstrap first: ${BOOTSTRAP}`,
  [CHECK_VIOLATION]: `no month partition takes the row; bootstrap creates them: ${BOOTSTRAP} -- --maintain`,
  SASL_AUTHENTICATION_FAILED: SASL_HINT,
  KafkaJSSASLAuthenticationError: SASL_HINT,
  UNKNOWN_TOPIC_OR_PARTITION: `bootstrap creates the product's topics: ${BOOTSTRAP}`,
};

function hintFor(dependency: Dependency, { kind, code }: Verdict): string {
  if (code !== undefined) {
    if (TLS_TRUST_CODES.has(code)) return TLS_HINT[dependency];
    const known = CODE_HINTS[code];
    if (known !== undefined) return known;
  }
  switch (kind) {
    case "outage":
      return `is ${NAME[dependency]} up at ${SETTING[dependency]}? ${STACK}`;
    case "refused":
      return dependency === "Kafka"
        ? "Kafka's ACLs refuse this client: grant its user the operations it needs on the topics and the group"
        : `${NAME[dependency]} refused this client: check its credentials and permissions`;
    case "missing":
      return dependency === "schema registry"
        ? `check SCHEMA_REGISTRY_URL (Apicurio serves the Confluent API under /apis/ccompat/v7); bootstrap registers the schemas: ${BOOTSTRAP}`
        : `bootstrap creates what the product needs: ${BOOTSTRAP}`;
    case "other":
      return `check ${SETTING[dependency]} and the log of ${NAME[dependency]}`;
  }
}
