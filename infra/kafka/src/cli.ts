#!/usr/bin/env node
// Usage: tsx src/cli.ts <start|stop|status|fetch-jars> [--port 9092] [--name default] [--fresh]
//   start       start a broker in the background (detached) and return once it is healthy;
//               prints the bootstrap address on stdout. Idempotent: if already running, prints it again.
//   stop        SIGTERM the background broker (SIGKILL after 30 s).
//   status      print the address and pid if running (exit 1 if not).
//   fetch-jars  resolve the Kafka jars into libs/ with Maven (no-op if already there).
import { parseArgs } from 'node:util';
import { readBrokerState, startKafkaBroker, stopKafkaBroker } from './broker.ts';
import { ensureKafkaJars, kafkaJarsPresent } from './jars.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: process.env.KAFKA_PORT ?? '9092' },
    name: { type: 'string', default: 'default' },
    fresh: { type: 'boolean', default: false },
  },
});
const command = positionals[0] ?? 'status';
const name = values.name;

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
        console.log(running.brokers.join(','));
        return 0;
      }
      const t0 = Date.now();
      const broker = await startKafkaBroker({ name, port: Number(values.port), fresh: values.fresh, detached: true });
      console.error(
        `Kafka ${broker.brokers.join(',')} healthy in ${Date.now() - t0} ms (pid ${broker.pid}, data ${broker.dataDir}, log ${broker.logFile})`,
      );
      console.error(`export KAFKA_BROKERS=${broker.brokers.join(',')}`);
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
      console.log(`${state.brokers.join(',')} pid=${state.pid} since=${state.startedAt} log=${state.logFile}`);
      return 0;
    }
    default:
      console.error(`unknown command ${JSON.stringify(command)}; use start | stop | status | fetch-jars`);
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
