export {
  startKafkaBroker,
  stopKafkaBroker,
  readBrokerState,
  getFreePort,
  randomClusterId,
  type KafkaBroker,
  type StartKafkaBrokerOptions,
  type BrokerState,
} from './broker.ts';
export { ensureKafkaJars, kafkaJarsPresent } from './jars.ts';
export { checkPrerequisites, type Prerequisites } from './prereqs.ts';
export { KAFKA_VERSION, LIBS_DIR, RUN_ROOT } from './paths.ts';
