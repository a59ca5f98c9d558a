#!/usr/bin/env node
// sporbar-witness: a C2SP tlog-witness (POST /add-checkpoint) for Sporbar's log, run by another party.
//   sporbar-witness [serve]                 the HTTP witness (configuration from the environment)
//   sporbar-witness keygen <name> <file>    a new Ed25519 key (PKCS#8 PEM, mode 0600); prints its vkey
//   sporbar-witness vkey                    prints the configured witness's vkey (SPORBAR_WITNESS_NAME, _KEY)
//   sporbar-witness log-vkey <origin> <pem> prints a log's vkey (its origin and checkpoint public key, SPKI PEM): for the logs file
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadVerifyingKey, verifierKeyString } from '@sporbar/auditor';
import pino from 'pino';
import { configOrExit, loadConfig } from '@sporbar/common/config';
import { witnessEnv, readWitnessConfig } from './config.ts';
import { createCosigner } from '@sporbar/auditor/note';
import { buildWitnessServer } from './server.ts';
import { openPostgresStore } from './store.ts';
import { createWitness } from './witness.ts';

const [command = 'serve', ...args] = process.argv.slice(2);

if (command === 'keygen') {
  const [name, file] = args;
  if (!name || !file) {
    process.stderr.write('usage: sporbar-witness keygen <name> <file>\n');
    process.exit(2);
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const cosigner = createCosigner(name, privateKey);
  writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  process.stdout.write(`${cosigner.vkey}\n`);
} else if (command === 'vkey') {
  const v = configOrExit(() =>
    loadConfig('sporbar-witness', { SPORBAR_WITNESS_NAME: witnessEnv.SPORBAR_WITNESS_NAME, SPORBAR_WITNESS_KEY: witnessEnv.SPORBAR_WITNESS_KEY }, process.env),
  );
  process.stdout.write(`${createCosigner(v.SPORBAR_WITNESS_NAME, v.SPORBAR_WITNESS_KEY).vkey}\n`);
} else if (command === 'log-vkey') {
  const [origin, file] = args;
  if (!origin || !file) {
    process.stderr.write('usage: sporbar-witness log-vkey <log origin> <checkpoint public key PEM file>\n');
    process.exit(2);
  }
  process.stdout.write(`${verifierKeyString(origin, loadVerifyingKey(readFileSync(file, 'utf8')).publicKeyRaw)}\n`);
} else if (command === 'serve') {
  const config = configOrExit(() => readWitnessConfig());
  const log = pino({ name: 'sporbar-witness', level: config.logLevel });
  const store = await openPostgresStore(config.databaseUrl, config.schema);
  const witness = createWitness({ cosigner: createCosigner(config.name, config.privateKey), logs: config.logs, store });
  const app = buildWitnessServer({ witness, store, logger: log });
  const address = await app.listen({ host: config.host, port: config.port });
  log.info({ address, vkey: witness.cosigner.vkey, logs: witness.origins }, 'witness ready: POST /add-checkpoint');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void app
        .close()
        .then(() => store.close())
        .then(() => process.exit(0));
    });
  }
} else {
  process.stderr.write(`unknown command ${command}: serve, keygen <name> <file>, vkey, log-vkey <origin> <pem>\n`);
  process.exit(2);
}
