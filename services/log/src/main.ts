#!/usr/bin/env node
// sporbar-log: the production log service. Signs checkpoints (one signer per log), serves /v1/log/*.
import pino from 'pino';
import { configError, configOrExit } from '@sporbar/common/config';
import { logServiceConfigFromEnv } from './config.ts';
import { signerOf, startLogServer } from './log-server.ts';
import { probeSigner } from './signer.ts';

// Every problem of the environment listed at once (SPB_ERR_CONFIG, no stack trace), before anything starts.
const config = configOrExit(() => logServiceConfigFromEnv(process.env));
const log = pino({ name: 'sporbar-log', level: config.logLevel });
const signer = signerOf(config);
// Fail closed: the signer must sign, and its signature must verify under the configured public key.
const problem = await probeSigner(signer, config.publicKey);
if (problem) {
  const variable = config.signer.kind === 'command' ? 'SPORBAR_CHECKPOINT_SIGNER_COMMAND' : 'SPORBAR_CHECKPOINT_KEY';
  configOrExit(() => {
    throw configError('sporbar-log', [{ variable, problem }]);
  });
}
const server = await startLogServer(config, log, signer);
log.info({ address: server.address, origin: config.origin, keyId: config.publicKey.keyId, signer: config.signer.kind, store: config.store.adapter, intervalSeconds: config.intervalMs / 1000 }, 'log service listening');

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: a last checkpoint if this instance signs');
  try {
    await server.close();
  } catch (err) {
    log.error({ err: (err as Error).message }, 'unclean stop');
    process.exit(1);
  }
  log.info('stopped');
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
