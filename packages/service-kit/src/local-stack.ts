/** The first Kafka node's PLAINTEXT port; every other Kafka port of the stack derives from it. */
const KAFKA_PORT_BASE = 9092;

/**
 * Where the services of the local stack (`pnpm stack up`) listen. Workers and tests default to
 * these addresses, so nothing needs exporting after the stack is up; infra/ starts the services
 * on exactly these ports. Change a port here and both sides follow.
 */
export const LOCAL_STACK = Object.freeze({
  host: "127.0.0.1",
  /** The first (or only) Kafka node's ports; see kafkaNodePorts for the nodes of a cluster. */
  kafkaPort: KAFKA_PORT_BASE,
  kafkaControllerPort: KAFKA_PORT_BASE + 1,
  /** The broker's SASL_SSL listener (SCRAM-SHA-512 over TLS, self-signed certificate). */
  kafkaSecurePort: KAFKA_PORT_BASE + 2,
  /** The SCRAM user the stack creates for the SASL_SSL listener; its password is in a file. */
  kafkaScramUser: "weather",
  /** Apicurio Registry's plain HTTP port; with `pnpm stack up --secure`, for the TLS proxy only. */
  registryPort: 8081,
  registryManagementPort: 9081,
  /**
   * `pnpm stack up --secure`: nginx in front of the registry, TLS with the stack's CA. On this port
   * it asks for HTTP basic auth (registryUser) or the bearer token; see registryProxyPorts.
   */
  registryTlsPort: 8443,
  /** The user of the secure registry's basic auth; its password is in a file of the stack. */
  registryUser: "weather",
  /** `pnpm stack up --secure`: Kafka's super user (the stack's own admin, and inter-broker traffic). */
  kafkaAdminUser: "weather-admin",
  postgresPort: 5432,
  /**
   * The stack's own PostgreSQL primary and streaming standby (`pnpm stack up --postgres-standby`):
   * node postgres-1 listens on the first port, postgres-2 on the second. A node keeps its port when
   * a failover swaps the roles, so the workers list both (infra's postgresPairUrl).
   */
  postgresPairPorts: Object.freeze([5433, 5434] as const),
  /** The database the product's tables live in; bootstrap creates it. */
  database: "weather",
  /** The database Apicurio Registry keeps its schemas in, on the same PostgreSQL server. */
  registryDatabase: "apicurio_registry",
  /**
   * The first port of the three-node cluster the cluster scenarios and the bench start beside the
   * stack (19092-19100), well away from the stack's own Kafka, which others keep using meanwhile.
   */
  sideClusterKafkaPort: 19_092,
  /**
   * The locked-down stacks (`up --secure`) infra's tests start beside everything else: Kafka from
   * 19292 (one node, then three: 19292-19300), the registry's proxy on 18443-18444.
   */
  secureTestKafkaPort: 19_292,
  secureTestRegistryProxyPort: 18_443,
});

/** How far Apicurio's management (health) port lies above its HTTP port: 8081 -> 9081. */
const REGISTRY_MANAGEMENT_OFFSET = 1000;

export interface RegistryPorts {
  /** Apicurio's HTTP port (the Confluent-compatible API). */
  readonly http: number;
  /** Apicurio's management port (/health/ready). */
  readonly management: number;
}

/** Apicurio's ports when its HTTP port is `httpPort` (STACK_REGISTRY_PORT moves both). */
export function registryPorts(httpPort: number = LOCAL_STACK.registryPort): RegistryPorts {
  return Object.freeze({ http: httpPort, management: httpPort + REGISTRY_MANAGEMENT_OFFSET });
}

export interface RegistryProxyPorts {
  /** TLS; HTTP basic auth or the bearer token. */
  readonly tls: number;
  /** TLS; a client certificate signed by the stack's CA (mutual TLS), nothing else. */
  readonly mtls: number;
}

/**
 * The ports of the secure registry's proxy when its first port is `basePort`
 * (STACK_REGISTRY_PROXY_PORT moves both): 8443 for basic auth or a token, 8444 for mutual TLS.
 */
export function registryProxyPorts(basePort: number = LOCAL_STACK.registryTlsPort): RegistryProxyPorts {
  return Object.freeze({ tls: basePort, mtls: basePort + 1 });
}

/** Apicurio Registry serves the Confluent Schema Registry REST API under this path. */
export const CONFLUENT_COMPAT_PATH = "/apis/ccompat/v7";

export const DEFAULT_KAFKA_BROKERS = `${LOCAL_STACK.host}:${LOCAL_STACK.kafkaPort}`;
export const DEFAULT_SCHEMA_REGISTRY_URL = `http://${LOCAL_STACK.host}:${LOCAL_STACK.registryPort}${CONFLUENT_COMPAT_PATH}`;
export const DEFAULT_DATABASE_URL = `postgres://postgres@${LOCAL_STACK.host}:${LOCAL_STACK.postgresPort}/${LOCAL_STACK.database}`;

/** The read-only role bootstrap creates (READER_DB_ROLE) and the dashboard reads as. */
export const DEFAULT_READER_DB_ROLE = "weather_reader";
/** The product's database as the read-only role: the dashboard's default DATABASE_URL. */
export const DEFAULT_READER_DATABASE_URL = `postgres://${DEFAULT_READER_DB_ROLE}@${LOCAL_STACK.host}:${LOCAL_STACK.postgresPort}/${LOCAL_STACK.database}`;

/**
 * Where pg-sink serves /healthz, /readyz and /metrics unless SINK_HTTP_PORT says otherwise; the
 * dashboard looks for sinks there.
 */
export const DEFAULT_SINK_HTTP_PORT = 9464;

/** How many consecutive ports each Kafka node of the local stack takes: PLAINTEXT, CONTROLLER, SASL_SSL. */
const KAFKA_PORTS_PER_NODE = 3;

export interface KafkaNodePorts {
  /** PLAINTEXT: clients and replication between the nodes. */
  readonly broker: number;
  /** The KRaft controller quorum. */
  readonly controller: number;
  /** SASL_SSL (SCRAM over TLS) for clients. */
  readonly secure: number;
}

/**
 * The ports of node `node` (1-based) of a local Kafka cluster whose first node listens on
 * `basePort`: node n takes basePort + 3(n-1) and the two after it. With the default base, node 1
 * is the one-broker stack's 9092/9093/9094 and a three-node cluster spans 9092-9100.
 */
export function kafkaNodePorts(node: number, basePort: number = LOCAL_STACK.kafkaPort): KafkaNodePorts {
  const broker = basePort + KAFKA_PORTS_PER_NODE * (node - 1);
  return Object.freeze({ broker, controller: broker + 1, secure: broker + 2 });
}

/** The PLAINTEXT bootstrap servers of a local cluster of `nodes` nodes, comma-separated (KAFKA_BROKERS). */
export function localKafkaBrokers(nodes: number, basePort: number = LOCAL_STACK.kafkaPort): string {
  return Array.from(
    { length: nodes },
    (_, i) => `${LOCAL_STACK.host}:${kafkaNodePorts(i + 1, basePort).broker}`,
  ).join(",");
}
