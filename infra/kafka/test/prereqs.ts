import { checkPrerequisites, kafkaJarsPresent } from '../src/index.ts';

/**
 * Whether a broker can be started here. Missing java (or mvn with no cached jars) is a
 * failure under CI=true and a skip elsewhere.
 */
export function canRunBroker(): boolean {
  const pre = checkPrerequisites();
  const ok = pre.java && (pre.maven || kafkaJarsPresent());
  if (!ok && process.env.CI === 'true') {
    throw new Error(`CI=true but java=${pre.java} mvn=${pre.maven}: cannot run the Kafka broker tests`);
  }
  if (!ok) console.warn('[kafka-infra] java/mvn missing: skipping broker tests');
  return ok;
}
