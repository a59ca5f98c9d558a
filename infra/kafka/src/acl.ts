/**
 * Declarative Kafka principals → kafkajs ACL entries (pure).
 *
 *   { user: 'producer-mitid', password, allow: [{ topic: 'sporbar.disclosures', ops: ['Write'] }] }
 *
 * becomes ALLOW User:producer-mitid WRITE on TOPIC sporbar.disclosures (LITERAL), host '*'. With the
 * StandardAuthorizer and allow.everyone.if.no.acl.found=false everything not allowed is refused.
 * Operation names are Kafka's own (as kafka-acls prints them); what each resource type accepts is
 * checked here, so a typo fails before anything reaches the broker.
 */
// kafkajs is CommonJS and Node's ESM loader only sees its first few named exports, so the ACL enums
// are taken from the default export (the types come from its .d.ts).
import kafkajs, { type AclEntry, type AclOperationTypes, type AclResourceTypes, type ResourcePatternTypes } from 'kafkajs';

const { AclOperationTypes: Op, AclPermissionTypes: Permission, AclResourceTypes: Resource, ResourcePatternTypes: Pattern } = kafkajs;
import { assertValidPassword, assertValidUserName } from './scram.ts';

export type KafkaAclOperation =
  | 'All'
  | 'Read'
  | 'Write'
  | 'Create'
  | 'Delete'
  | 'Alter'
  | 'Describe'
  | 'ClusterAction'
  | 'DescribeConfigs'
  | 'AlterConfigs'
  | 'IdempotentWrite';

/** What one principal is allowed on one resource. `prefixed: true` matches every name starting with it. */
export type KafkaAclGrant =
  | { topic: string; prefixed?: boolean; ops: KafkaAclOperation[] }
  | { group: string; prefixed?: boolean; ops: KafkaAclOperation[] }
  | { transactionalId: string; prefixed?: boolean; ops: KafkaAclOperation[] }
  | { cluster: true; ops: KafkaAclOperation[] };

export interface KafkaPrincipalSpec {
  /** SCRAM user name; the principal is `User:<user>`. */
  user: string;
  /** SCRAM-SHA-512 password. Omit to only add ACLs for a user that already exists. */
  password?: string;
  /** ALLOW ACLs (there are no DENY ACLs here: what is not allowed is refused anyway). */
  allow?: KafkaAclGrant[];
  /** Host the ACLs apply to. Default '*'. */
  host?: string;
}

const OPERATION: Record<KafkaAclOperation, AclOperationTypes> = {
  All: Op.ALL,
  Read: Op.READ,
  Write: Op.WRITE,
  Create: Op.CREATE,
  Delete: Op.DELETE,
  Alter: Op.ALTER,
  Describe: Op.DESCRIBE,
  ClusterAction: Op.CLUSTER_ACTION,
  DescribeConfigs: Op.DESCRIBE_CONFIGS,
  AlterConfigs: Op.ALTER_CONFIGS,
  IdempotentWrite: Op.IDEMPOTENT_WRITE,
};

/** The operations Kafka defines for each resource type (org.apache.kafka.common.acl.AclOperation docs). */
const VALID_OPERATIONS: Record<'topic' | 'group' | 'transactionalId' | 'cluster', readonly KafkaAclOperation[]> = {
  topic: ['All', 'Read', 'Write', 'Create', 'Delete', 'Alter', 'Describe', 'DescribeConfigs', 'AlterConfigs'],
  group: ['All', 'Read', 'Describe', 'Delete'],
  transactionalId: ['All', 'Describe', 'Write'],
  cluster: ['All', 'Create', 'ClusterAction', 'DescribeConfigs', 'AlterConfigs', 'IdempotentWrite', 'Alter', 'Describe'],
};

function resourceOf(grant: KafkaAclGrant): {
  kind: keyof typeof VALID_OPERATIONS;
  type: AclResourceTypes;
  name: string;
  pattern: ResourcePatternTypes;
} {
  const pattern = 'prefixed' in grant && grant.prefixed ? Pattern.PREFIXED : Pattern.LITERAL;
  if ('topic' in grant) return { kind: 'topic', type: Resource.TOPIC, name: grant.topic, pattern };
  if ('group' in grant) return { kind: 'group', type: Resource.GROUP, name: grant.group, pattern };
  if ('transactionalId' in grant) {
    return { kind: 'transactionalId', type: Resource.TRANSACTIONAL_ID, name: grant.transactionalId, pattern };
  }
  // The cluster resource has exactly one name.
  return { kind: 'cluster', type: Resource.CLUSTER, name: 'kafka-cluster', pattern: Pattern.LITERAL };
}

/** Check a principal list (names, passwords, operations, duplicates); throws on the first problem. */
export function validatePrincipals(specs: readonly KafkaPrincipalSpec[]): void {
  const seen = new Set<string>();
  for (const spec of specs) {
    assertValidUserName(spec.user);
    if (seen.has(spec.user)) throw new Error(`Kafka user ${JSON.stringify(spec.user)} is listed twice`);
    seen.add(spec.user);
    if (spec.password !== undefined) assertValidPassword(spec.user, spec.password);
    for (const grant of spec.allow ?? []) {
      const { kind, name } = resourceOf(grant);
      if (name.length === 0) throw new Error(`empty ${kind} name in the ACLs of ${spec.user}`);
      if (grant.ops.length === 0) throw new Error(`no operations for ${kind} ${name} in the ACLs of ${spec.user}`);
      for (const op of grant.ops) {
        if (!VALID_OPERATIONS[kind].includes(op)) {
          throw new Error(
            `operation ${JSON.stringify(op)} is not defined for a ${kind} (user ${spec.user}, ${kind} ${name}); ` +
              `valid: ${VALID_OPERATIONS[kind].join(', ')}`,
          );
        }
      }
    }
  }
}

/** The ALLOW ACL entries for `specs`, one per (principal, resource, operation). */
export function aclEntriesFor(specs: readonly KafkaPrincipalSpec[]): AclEntry[] {
  validatePrincipals(specs);
  return specs.flatMap((spec) =>
    (spec.allow ?? []).flatMap((grant) => {
      const resource = resourceOf(grant);
      return [...new Set(grant.ops)].map(
        (op): AclEntry => ({
          principal: `User:${spec.user}`,
          host: spec.host ?? '*',
          operation: OPERATION[op],
          permissionType: Permission.ALLOW,
          resourceType: resource.type,
          resourceName: resource.name,
          resourcePatternType: resource.pattern,
        }),
      );
    }),
  );
}
