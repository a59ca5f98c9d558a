#!/usr/bin/env node
// sporbar-projections: `run` keeps the read models up to date; `rebuild` replays them into fresh tables and switches over;
// `requeue` re-applies quarantined events after a fix.
import { Command } from 'commander';
import pg from 'pg';
import pino from 'pino';
import { createEventStore } from '@sporbar/event-store';
import { configOrExit } from '@sporbar/common/config';
import { probe, readiness } from '@sporbar/common/health';
import { createCodec, loadRegisterSource } from '@sporbar/schemas';
import { allProjections } from './all-projections.ts';
import { projectorConfigFromEnv } from './config.ts';
import { activePrefix, dropReadModelTables, rebuildReadModels } from './rebuild.ts';
import { createProjectorMetrics, serveProjectorMetrics } from './metrics.ts';
import { createProjectionRunner, type ProjectionRunner } from './runner.ts';
import { fromPgPool } from './sql.ts';

// Its level is LOG_LEVEL, set once the configuration is read (every problem listed at once, no stack trace).
const log = pino({ name: 'sporbar-projections' });

async function open() {
  const config = configOrExit(() => projectorConfigFromEnv(process.env));
  log.level = config.logLevel;
  const store = await createEventStore(config.store);
  const pool = new pg.Pool({ connectionString: config.readModelsDatabaseUrl, max: 4 });
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost')); // a server restart must not kill the process
  // Retention and consent rules of the notice version in force at each disclosure (SPORBAR_REGISTER_DIR, else the packaged register).
  const registerFiles = await loadRegisterSource('sporbar-projections', config.registerDir).catch((err: unknown) => configOrExit(() => { throw err; }));
  return { config, store, pool, db: fromPgPool(pool), codec: createCodec(), projections: allProjections(registerFiles) };
}

/** SIGTERM: the batch in hand commits with its checkpoint (or rolls back), the pools close, exit 0; past this, exit 1. */
const SHUTDOWN_BOUND_MS = 35_000;
/** How long each closing step may wait for an absent database before it is given up. */
const STOP_BATCH_MS = 10_000;
/** Whether `p` settled within `ms` (a rejection counts: the step is over). */
const within = (p: Promise<unknown> | undefined, ms: number): Promise<boolean> =>
  Promise.race([Promise.resolve(p).then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

const program = new Command('sporbar-projections').description('Sporbar read models over the event store');

program
  .command('run')
  .description('subscribe to the log and keep every read model up to date (checkpoint in the same transaction)')
  .action(async () => {
    const { config, store, pool, db, codec, projections } = await open();
    let runner: ProjectionRunner | undefined;
    let stopping = false;
    const metrics = createProjectorMetrics({ db, runner: () => runner, headPosition: () => store.headPosition() });
    const server = await serveProjectorMetrics(metrics, {
      host: config.metricsHost,
      port: config.metricsPort,
      // Alive while a runner projects (a failed one exits the process: the supervisor restarts it).
      healthy: () => runner !== undefined && !stopping,
      // Ready while the event store and the read models' database both answer.
      ready: () => readiness({ eventStore: () => probe(() => store.headPosition()), readModels: () => probe(() => pool.query('SELECT 1')) }),
    }).catch((err: Error) => {
      log.error({ err: err.message, metricsPort: config.metricsPort }, 'cannot serve /metrics and /health: exiting');
      process.exit(1);
    });
    const startRunner = async (prefix: string) => {
      const r = createProjectionRunner({
        store,
        db,
        codec,
        projections,
        prefix,
        // An event a projection cannot apply is quarantined (table projection_quarantine, GET /v1/quarantine): codes only, never content.
        // Counted in sporbar_projector_events_quarantined_total; sporbar_projector_quarantine_open is what is left to re-apply.
        onQuarantine: (q) => {
          metrics.onQuarantine(q);
          log.error({ projection: q.projection, position: String(q.position), eventId: q.eventId, eventType: q.eventType, reason: q.reasonCode }, 'event quarantined');
        },
        // Not a passing outage (those are retried): stop, so the supervisor restarts from the checkpoint.
        onError: (err) => {
          log.error({ err: (err as Error).message }, 'projection failed: exiting');
          process.exit(1);
        },
      });
      await r.start();
      log.info({ prefix, from: String(r.position) }, 'projecting');
      return r;
    };
    let prefix = await activePrefix(db);
    runner = await startRunner(prefix);
    const address = server.address();
    log.info({ metricsPort: typeof address === 'object' && address ? address.port : config.metricsPort }, 'metrics and health listening');
    // A rebuild elsewhere switches read_model_active: follow it, then drop the tables left behind.
    const follow = setInterval(() => {
      void activePrefix(db)
        .then(async (active) => {
          if (active === prefix) return;
          const previous = prefix;
          prefix = active;
          await runner?.stop();
          runner = await startRunner(active);
          await dropReadModelTables(db, projections, previous);
          log.info({ previous, active }, 'switched to rebuilt read models');
        })
        .catch((err) => log.error({ err: (err as Error).message }, 'following the active read models failed'));
    }, 1000);
    const stop = async (signal: string) => {
      stopping = true;
      clearInterval(follow);
      log.info({ signal, position: String(runner?.position) }, 'stopping');
      setTimeout(() => {
        log.error({ boundMs: SHUTDOWN_BOUND_MS }, 'did not stop in time: exiting');
        process.exit(1);
      }, SHUTDOWN_BOUND_MS).unref();
      // The batch in hand commits with its checkpoint, or not at all: a batch still waiting for an absent
      // database is abandoned after STOP_BATCH_MS, and the next start resumes from the checkpoint.
      if (!(await within(runner?.stop(), STOP_BATCH_MS))) log.warn({ afterMs: STOP_BATCH_MS }, 'abandoning the batch in hand: not committed, the next start projects it');
      server.close();
      server.closeAllConnections();
      await within(store.close(), STOP_BATCH_MS);
      await within(pool.end(), STOP_BATCH_MS);
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('rebuild')
  .description('replay the whole log into fresh tables while the live ones serve, then switch the API (and a running projector) over')
  .option('--drop-previous', 'drop the previous tables now (when no `run` process is there to do it after switching)')
  .option('--batch-size <events>', 'events per transaction while catching up (default 5000)', (v) => Number.parseInt(v, 10))
  .action(async (opts: { dropPrevious?: boolean; batchSize?: number }) => {
    const { store, pool, db, codec, projections } = await open();
    const result = await rebuildReadModels({ store, db, codec, projections, ...(opts.batchSize ? { batchSize: opts.batchSize } : {}) });
    await result.runner.stop();
    if (opts.dropPrevious) await dropReadModelTables(db, projections, result.previous);
    console.log(
      `rebuilt ${result.events} events into ${result.prefix} in ${result.seconds.toFixed(1)} s (${Math.round(Number(result.events) / result.seconds)} events/s; caught up in ${result.catchUpSeconds.toFixed(1)} s, then the query indexes)`,
    );
    console.log(opts.dropPrevious ? `dropped ${result.previous}` : `a running \`sporbar-projections run\` switches over and drops ${result.previous}`);
    await store.close();
    await pool.end();
  });

program
  .command('requeue')
  .description('re-apply quarantined events of the active read models: those of projections whose version changed since (a fixed projection), or with --all every one still quarantined')
  .option('--all', 'every unresolved entry, undecodable events included, whatever the projection version')
  .action(async (opts: { all?: boolean }) => {
    const { store, pool, db, codec, projections } = await open();
    const prefix = await activePrefix(db);
    // Not started: only its requeue, over the active tables and their checkpoint name (the quarantine's runner).
    const runner = createProjectionRunner({ store, db, codec, projections, prefix });
    const { applied, stillFailing } = await runner.requeue({ all: opts.all === true });
    console.log(`requeued ${prefix}: ${applied} applied, ${stillFailing} still failing (left quarantined with their new reason)`);
    await store.close();
    await pool.end();
    process.exitCode = stillFailing > 0 ? 2 : 0;
  });

await program.parseAsync();
