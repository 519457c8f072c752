/**
 * Kafka ACLs as data: who may do what to which topic or group. The product's own list (one
 * principal per worker) is @weather/schema's workerKafkaAcls; this module only knows how to create
 * such a list on a cluster and how to show it.
 */
import kafkajs, { type AclEntry, type Admin } from "kafkajs";

// kafkajs's CommonJS exports list these after a spread Node's named-export detection stops at.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

export type KafkaAclResource = "topic" | "group" | "cluster";

/** Kafka's operation names, as kafka-acls.sh spells them. */
export type KafkaAclOperation =
  | "Read"
  | "Write"
  | "Create"
  | "Delete"
  | "Describe"
  | "Alter"
  | "DescribeConfigs"
  | "AlterConfigs"
  | "IdempotentWrite";

/** One ALLOW rule: `principal` may do `operations` on the resource from any host. */
export interface KafkaAcl {
  /** The SCRAM user name (the principal is `User:<name>`). */
  readonly principal: string;
  readonly resource: KafkaAclResource;
  /** A topic or group name, or its prefix when `pattern` is "prefixed"; Kafka's "kafka-cluster" for the cluster. */
  readonly name: string;
  readonly pattern: "literal" | "prefixed";
  readonly operations: readonly KafkaAclOperation[];
  /** What the worker does with it, for the documentation and for a refusal's hint. */
  readonly why: string;
}

const RESOURCE_TYPES: Record<KafkaAclResource, AclEntry["resourceType"]> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  cluster: AclResourceTypes.CLUSTER,
};

const OPERATION_TYPES: Record<KafkaAclOperation, AclEntry["operation"]> = {
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Create: AclOperationTypes.CREATE,
  Delete: AclOperationTypes.DELETE,
  Describe: AclOperationTypes.DESCRIBE,
  Alter: AclOperationTypes.ALTER,
  DescribeConfigs: AclOperationTypes.DESCRIBE_CONFIGS,
  AlterConfigs: AclOperationTypes.ALTER_CONFIGS,
  IdempotentWrite: AclOperationTypes.IDEMPOTENT_WRITE,
};

/** kafkajs's entries for these rules: one per operation. */
export function kafkaAclEntries(acls: readonly KafkaAcl[]): AclEntry[] {
  return acls.flatMap((acl) =>
    acl.operations.map(
      (operation): AclEntry => ({
        resourceType: RESOURCE_TYPES[acl.resource],
        resourceName: acl.name,
        resourcePatternType:
          acl.pattern === "prefixed" ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
        principal: `User:${acl.principal}`,
        host: "*",
        operation: OPERATION_TYPES[operation],
        permissionType: AclPermissionTypes.ALLOW,
      }),
    ),
  );
}

/**
 * Creates the rules on the cluster `admin` is connected to, as a principal allowed to (ALTER on
 * the cluster: a super user). Idempotent: Kafka keeps one copy of a rule created twice.
 * @returns how many entries (rule x operation) were sent.
 */
export async function createKafkaAcls(admin: Admin, acls: readonly KafkaAcl[]): Promise<number> {
  const entries = kafkaAclEntries(acls);
  if (entries.length > 0) await admin.createAcls({ acl: entries });
  return entries.length;
}

function resourceOf(acl: KafkaAcl): string {
  if (acl.resource === "cluster") return "the cluster";
  return acl.pattern === "prefixed" ? `${acl.resource}s \`${acl.name}*\`` : `${acl.resource} \`${acl.name}\``;
}

/** The rules as a Markdown table: principal, resource, operations, why. */
export function kafkaAclTable(acls: readonly KafkaAcl[]): string {
  const rows = acls.map((acl) => [
    `\`${acl.principal}\``,
    resourceOf(acl),
    acl.operations.join(", "),
    acl.why,
  ]);
  const header = ["Principal", "Resource", "Operations", "Why"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}
