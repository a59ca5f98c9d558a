#!/usr/bin/env node
// Usage: tsx src/cli.ts <start|stop|status|fetch-jars|provision|topics> [--port 9092] [--name default] [--fresh] [--secure]
//   start       start a broker in the background (detached) and return once it is healthy;
//               prints the bootstrap address on stdout. Idempotent: if already running, prints it again.
//               --secure: TLS + SASL/SCRAM-SHA-512 + ACLs (README "Secured mode"); prints the KAFKA_*
//               variables of its admin principal on stderr.
//   provision <principals.json>  create the SCRAM users and ACLs listed in the file (a JSON array of
//               KafkaPrincipalSpec) on the running secured broker --name.
//   topics <name[:partitions]>...  create the topics that do not exist yet, as the admin of the running
//               broker --name (on a secured broker nobody else may create topics).
//   stop        SIGTERM the background broker (SIGKILL after 30 s).
//   status      print the address and pid if running (exit 1 if not).
//   fetch-jars  resolve the Kafka jars into libs/ with Maven (no-op if already there).
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import { readBrokerState, startKafkaBroker, stopKafkaBroker, type BrokerState } from './broker.ts';
import type { KafkaPrincipalSpec } from './acl.ts';
import type { KafkaClientSettings } from './client-settings.ts';
import { provisionKafkaPrincipals } from './principals.ts';
import { ensureKafkaJars, kafkaJarsPresent } from './jars.ts';
import { ensureTopics, parseTopicSpec } from './topics.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: process.env.KAFKA_PORT ?? '9092' },
    name: { type: 'string', default: 'default' },
    fresh: { type: 'boolean', default: false },
    secure: { type: 'boolean', default: false },
  },
});
const command = positionals[0] ?? 'status';
const name = values.name;

/** What to export to use a secured broker as its admin (the password by file, not in the shell history). */
function printSecureEnv(state: BrokerState): void {
  if (!state.secure) return;
  console.error(`export KAFKA_CA_FILE=${state.secure.caFile}`);
  console.error('export KAFKA_SASL_MECHANISM=scram-sha-512 KAFKA_SASL_USERNAME=admin');
  console.error(`export KAFKA_SASL_PASSWORD_FILE=${state.secure.adminPasswordFile}`);
  console.error(`# all of it as JSON (0600): ${state.secure.adminClientFile}`);
}

async function main(): Promise<number> {
  switch (command) {
    case 'fetch-jars': {
      const cached = kafkaJarsPresent();
      const t0 = Date.now();
      const dir = await ensureKafkaJars();
      console.error(cached ? `Kafka jars already in ${dir}` : `fetched Kafka jars into ${dir} in ${Date.now() - t0} ms`);
      return 0;
    }
    case 'start': {
      const running = readBrokerState(name);
      if (running) {
        console.error(`Kafka broker "${name}" already running (pid ${running.pid}); log: ${running.logFile}`);
        console.error(`export KAFKA_BROKERS=${running.brokers.join(',')}`);
        printSecureEnv(running);
        console.log(running.brokers.join(','));
        return 0;
      }
      const t0 = Date.now();
      const broker = await startKafkaBroker({
        name,
        port: Number(values.port),
        fresh: values.fresh,
        detached: true,
        secure: values.secure,
      });
      console.error(
        `Kafka ${broker.brokers.join(',')}${broker.secure ? ' (secured: SASL_SSL, ACLs)' : ''} healthy in ${Date.now() - t0} ms ` +
          `(pid ${broker.pid}, data ${broker.dataDir}, log ${broker.logFile})`,
      );
      console.error(`export KAFKA_BROKERS=${broker.brokers.join(',')}`);
      const state = readBrokerState(name);
      if (state) printSecureEnv(state);
      console.log(broker.brokers.join(','));
      return 0;
    }
    case 'stop': {
      const stopped = await stopKafkaBroker(name);
      console.error(stopped ? `Kafka broker "${name}" stopped` : `Kafka broker "${name}" was not running`);
      return 0;
    }
    case 'status': {
      const state = readBrokerState(name);
      if (!state) {
        console.error(`Kafka broker "${name}" is not running`);
        return 1;
      }
      console.log(
        `${state.brokers.join(',')} pid=${state.pid} since=${state.startedAt} log=${state.logFile}` +
          (state.secure ? ` secure=SASL_SSL ca=${state.secure.caFile} admin=${state.secure.adminClientFile}` : ''),
      );
      return 0;
    }
    case 'provision': {
      const file = positionals[1];
      if (!file) {
        console.error('usage: provision <principals.json> [--name default]');
        return 2;
      }
      const state = readBrokerState(name);
      if (!state?.secure) {
        console.error(`no secured Kafka broker "${name}" is running (start it with --secure)`);
        return 1;
      }
      const admin = JSON.parse(fs.readFileSync(state.secure.adminClientFile, 'utf8')) as KafkaClientSettings;
      const specs = JSON.parse(fs.readFileSync(file, 'utf8')) as KafkaPrincipalSpec[];
      const result = await provisionKafkaPrincipals(admin, specs);
      console.error(`users ${result.users.join(', ') || '(none)'} and ${result.acls} ACL entries provisioned in ${result.ms} ms`);
      return 0;
    }
    case 'topics': {
      const specs = positionals.slice(1).map(parseTopicSpec);
      if (specs.length === 0) {
        console.error('usage: topics <name[:partitions]>... [--name default]');
        return 2;
      }
      const state = readBrokerState(name);
      if (!state) {
        console.error(`no Kafka broker "${name}" is running`);
        return 1;
      }
      const admin: KafkaClientSettings = state.secure ? (JSON.parse(fs.readFileSync(state.secure.adminClientFile, 'utf8')) as KafkaClientSettings) : { brokers: state.brokers };
      const { created, existing } = await ensureTopics(admin, specs);
      console.error(`topics created: ${created.join(', ') || '(none)'}; already there: ${existing.join(', ') || '(none)'}`);
      return 0;
    }
    default:
      console.error(`unknown command ${JSON.stringify(command)}; use start | stop | status | fetch-jars | provision | topics`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
