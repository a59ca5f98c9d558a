export {
  startKafkaBroker,
  stopKafkaBroker,
  readBrokerState,
  getFreePort,
  randomClusterId,
  type KafkaBroker,
  type KafkaSecureOptions,
  type StartKafkaBrokerOptions,
  type BrokerState,
} from './broker.ts';
export { aclEntriesFor, validatePrincipals, type KafkaAclGrant, type KafkaAclOperation, type KafkaPrincipalSpec } from './acl.ts';
export {
  kafkaClientEnv,
  kafkaClientOptions,
  kafkaClientSettingsFromEnv,
  KAFKA_CLIENT_ENV_NAMES,
  librdkafkaProperties,
  type KafkaClientSettings,
  type KafkaClientTarget,
  type KafkaSaslSettings,
  type KafkaClientOptions,
} from './client-settings.ts';
export { createPrincipalAcls, provisionKafkaPrincipals, upsertScramUsers, type ProvisionResult } from './principals.ts';
export { randomPassword } from './scram.ts';
export { ADMIN_USER } from './security-config.ts';
export { BROKER_TLS_PRINCIPAL, brokerTlsValid, createCertificateAuthority, ensureBrokerTls, type BrokerTls } from './tls.ts';
export { ensureKafkaJars, kafkaJarsPresent } from './jars.ts';
export { checkPrerequisites, type Prerequisites } from './prereqs.ts';
export { KAFKA_VERSION, LIBS_DIR, RUN_ROOT } from './paths.ts';
export { ensureTopics, parseTopicSpec, type TopicSpec } from './topics.ts';
