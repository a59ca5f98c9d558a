// `npm start`: the embedded default. One process, PGlite in ./data, synthetic traffic from the register.
import pino from 'pino';
import { configOrExit } from '@sporbar/common/config';
import { latestRegister, loadRegisterSource } from '@sporbar/schemas';
import { sampleSubjects } from '@sporbar/projections';
import { devToken } from '@sporbar/access-api';
import { embeddedConfigFromEnv } from './config.ts';
import { startEmbeddedSystem } from './embedded-system.ts';
import { generateTraffic, syntheticCprs } from './synthetic-traffic.ts';

// Every problem of the environment listed at once (SPB_ERR_CONFIG, no stack trace), before anything starts.
const config = configOrExit(() => embeddedConfigFromEnv(process.env));
const log = pino({ name: 'sporbar', level: config.logLevel });
const registerFiles = await loadRegisterSource('sporbar (embedded)', config.registerDir).catch((err: unknown) => configOrExit(() => { throw err; }));
const register = latestRegister(registerFiles);
const system = await startEmbeddedSystem({ dataDir: config.dataDir, registerFiles, logger: log.child({ component: 'access-api' }) });

if ((await system.store.headPosition()) === 0n) {
  log.info({ transactions: config.seedTransactions, subjects: config.seedSubjects }, 'empty store: generating synthetic traffic from the processing register');
  const started = Date.now();
  const seeded = await generateTraffic(system.producer, register, { subjects: config.seedSubjects, transactions: config.seedTransactions });
  await system.settle();
  log.info({ ...seeded, ms: Date.now() - started }, 'synthetic traffic stored and projected');
} else {
  log.info({ headPosition: String(await system.store.headPosition()) }, 'store has data from an earlier run: continuing');
}

const address = await system.app.listen({ host: config.host, port: config.port });
const [example] = await sampleSubjects(system.db, 1, system.readModels.prefix());
const citizenCpr = syntheticCprs(config.seedSubjects, 2026)[0]!;
const caseworker = devToken({ role: 'caseworker', sub: 'dev-caseworker', expiresInSeconds: 3600 });
console.log(`
Sporbar is running (embedded: PGlite in ${config.dataDir}).
  API:           ${address}   (OpenAPI: ${address}/docs)
  Citizen page:  ${address}/  — development sign-in (not MitID) with a synthetic citizen's fictional CPR number: ${citizenCpr}
  Citizen API token (Authorization: Bearer, one hour):
${devToken({ role: 'citizen', sub: 'dev-citizen', cpr: citizenCpr, expiresInSeconds: 3600 })}
  Example query (caseworker, with a case number as the stated reason):
    curl -s -H "Authorization: Bearer ${caseworker}" \\
      "${address}/v1/subjects/${example ?? '<ref>'}/disclosures?reason=CASE-2026-1"
Development tokens are signed with the public dev key in services/access-api/dev/; production refuses it.
They are valid for one hour (the API refuses longer-lived tokens): 'npm run dev:token -w @sporbar/access-api -- <role> [cpr]' prints a new one.
`);

// A trickle of live traffic so the read models visibly move.
let tick = 0;
const live = config.liveEverySeconds > 0
  ? setInterval(() => {
      generateTraffic(system.producer, register, { subjects: config.seedSubjects, transactions: 1, seed: Date.now() % 2 ** 31, from: new Date() })
        .then(() => log.debug({ tick: ++tick }, 'live transaction recorded'))
        .catch((err) => log.error({ err }, 'live traffic failed'));
    }, config.liveEverySeconds * 1000)
  : undefined;

// The retention worker: records RetentionExpired when an activity's retention has run out; the ingest shreds the key.
const retention = setInterval(() => {
  system
    .runRetention()
    .then((n) => n > 0 && log.info({ expired: n }, 'retention expired: details shredded'))
    .catch((err) => log.error({ err }, 'retention run failed'));
}, config.retentionEverySeconds * 1000);

const shutdown = async (signal: string) => {
  log.info({ signal }, 'shutting down');
  if (live) clearInterval(live);
  clearInterval(retention);
  await system.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
