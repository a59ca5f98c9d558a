import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafkaBrokers } from '@sporbar/kafka-infra/vitest';
import { developmentProducerKey, formatProducerKey } from '@sporbar/producer';
import { generateSealKeyPair } from '@sporbar/key-store';
import { registerFiles } from '@sporbar/schemas';
import { ensureTopics } from '@sporbar/ingest';
import { startTestIssuer, type TestIssuer } from '../../common/test/support/oidc-issuer.ts';
import { createTestDatabase, dropTestDatabase, kafkaClient, metricsPortOf, metricValue, pipelineEnv, probePostgres, randomName, root, startService, statusOf, terminate, waitFor, type Service } from './support.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

/**
 * Every service of a production setup, each its own process as the README starts it: the ingest, the
 * projector, the access API, the producer gateway and the retention worker. Each answers /health
 * (alive) and /ready (its dependencies) with 200; with PostgreSQL gone (the connection goes through a
 * TCP proxy the test cuts) the database services' /ready answers 503 naming it while /health stays
 * 200, and 200 again once it is back; the gateway's /ready answers 503 when its token issuer is gone.
 * One event through the gateway reaches the read models (the projector's checkpoint lag is 0). Then,
 * PostgreSQL cut away again, SIGTERM: each exits 0 within its bound.
 */
const brokers = testKafkaBrokers();
const pgProbe = await probePostgres();
if (!brokers && process.env['CI'] === 'true') throw new Error('Kafka broker missing under CI=true');
if (!pgProbe.url && process.env['CI'] === 'true') throw new Error('PostgreSQL missing under CI=true');

/** The bound every service promises for SIGTERM (20-40 s; a step waiting for an absent database is given up after 10 s). */
const STOP_BOUND_MS = 40_000;

describe.skipIf(!brokers || !pgProbe.url)('every service: /health, /ready, /metrics, SIGTERM', () => {
  const env: Record<string, string> = {};
  const logs: string[] = [];
  const services: Service[] = [];
  let db: { name: string; url: string };
  let proxy: TcpProxy;
  let issuer: TestIssuer;
  let spoolDir: string;

  const start = (name: string, args: string[], extra: Record<string, string> = {}) => {
    const s = startService(name, args, { ...env, ...extra }, logs);
    services.push(s);
    return s;
  };
  /** The http address a service logged (`"address":"http://…"`). */
  const addressOf = async (s: Service): Promise<string> => {
    let address = '';
    await waitFor(
      () => {
        if (s.child.exitCode !== null) throw new Error(`${s.name} exited (${s.child.exitCode}):\n${s.output()}`);
        address = /"address":"(http:\/\/[^"]+)"/.exec(s.output())?.[1] ?? '';
        return address !== '';
      },
      60_000,
      `${s.name} listening`,
    );
    return address;
  };

  beforeAll(async () => {
    db = await createTestDatabase(pgProbe.url!);
    const target = new URL(db.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const topic = randomName('sporbar.disclosures');
    await ensureTopics(kafkaClient(), [
      { topic, numPartitions: 1 },
      { topic: `${topic}.dlq`, numPartitions: 1 },
    ]);
    Object.assign(env, pipelineEnv({ topic, databaseUrl: viaProxy.toString(), seal: await generateSealKeyPair() }));
    issuer = await startTestIssuer();
    spoolDir = mkdtempSync(join(tmpdir(), 'sporbar-lifecycle-'));
  });

  afterAll(async () => {
    if (process.env['DEBUG_PIPELINE']) console.log(logs.join(''));
    for (const s of services) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
    await issuer?.close().catch(() => undefined);
    await proxy?.close();
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
  });

  it('each answers /health and /ready, says when PostgreSQL is gone, and stops cleanly on SIGTERM, even without it', async () => {
    const ingest = start('ingest', [root('services/ingest/src/main.ts'), 'run']);
    const projector = start('projector', [root('projections/src/cli.ts'), 'run']);
    const retention = start('retention', [root('services/retention/src/main.ts')], {
      SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('sporbar-retention')),
      SPORBAR_RETENTION_INTERVAL_SECONDS: '1',
      SPORBAR_SPOOL_DIR: join(spoolDir, 'retention'),
    });
    const api = start('access-api', [root('services/access-api/src/main.ts')], { PORT: '0', SPORBAR_SPOOL_DIR: join(spoolDir, 'api') });
    const gateway = start('gateway', [root('services/producer-gateway/src/main.ts')], {
      PORT: '0',
      SPORBAR_SPOOL_DIR: join(spoolDir, 'gateway'),
      SPORBAR_GATEWAY_ISSUER: issuer.issuer,
      SPORBAR_GATEWAY_CLIENTS: 'payments-gw=nemkonto',
      SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('http-ingest')),
    });
    const bases = {
      ingest: `http://127.0.0.1:${await metricsPortOf(ingest)}`,
      projector: `http://127.0.0.1:${await metricsPortOf(projector)}`,
      retention: `http://127.0.0.1:${await metricsPortOf(retention)}`,
      api: await addressOf(api),
      gateway: await addressOf(gateway),
    };
    const withDatabase = ['ingest', 'projector', 'retention', 'api'] as const;
    const ok = async (base: string, path: '/health' | '/ready') => (await statusOf(`${base}${path}`)) === 200;
    for (const [name, base] of Object.entries(bases)) {
      await waitFor(async () => (await ok(base, '/health')) && (await ok(base, '/ready')), 60_000, `${name} healthy and ready`);
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status, name).toBe(200);
      expect(await metrics.text(), name).toMatch(/^sporbar_[a-z]+_process_cpu_seconds_total /m);
    }

    // One event through the gateway into the read models: the projector's checkpoint lag is 0 once it is there.
    // Before it, the ingest published the register it judges by: one RegisterPublished per notice version.
    const published = registerFiles.versions.length;
    const post = await fetch(`${bases.gateway}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await issuer.sign({ azp: 'payments-gw' })}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'DisclosureRecorded',
        eventId: crypto.randomUUID(),
        subject: { cpr: '210376-4411' },
        activity: 'nemkonto-register',
        recipient: { id: 'danish-tax-authority', role: 'PUBLIC_AUTHORITY' },
        purpose: 'nemkonto-payments',
        legalBases: ['LBK_494_2023'],
        dataCategories: ['transaction-history'],
      }),
    });
    expect(post.status, await post.clone().text()).toBe(202);
    await waitFor(async () => (await metricValue(bases.projector, 'sporbar_projector_position')) === published + 1, 60_000, 'the event projected');
    expect(await metricValue(bases.projector, 'sporbar_projector_checkpoint_lag')).toBe(0);
    expect(await metricValue(bases.gateway, 'sporbar_gateway_events_accepted_total')).toBe(1);
    expect(await metricValue(bases.ingest, 'sporbar_ingest_events_total')).toBe(1);

    // PostgreSQL goes away: not ready (naming the database), still alive.
    await proxy.cut();
    for (const name of withDatabase) {
      await waitFor(async () => (await statusOf(`${bases[name]}/ready`)) === 503, 30_000, `${name} not ready without PostgreSQL`);
      expect(await statusOf(`${bases[name]}/health`), name).toBe(200);
    }
    const ready = (await (await fetch(`${bases.api}/ready`)).json()) as { checks: Record<string, string> };
    expect(ready.checks['readModels']).toMatch(/^(unreachable|timeout)/);
    expect(JSON.stringify(ready)).not.toContain('postgres://');
    // Back: ready again, without a restart.
    await proxy.restore();
    for (const name of withDatabase) await waitFor(() => ok(bases[name], '/ready'), 60_000, `${name} ready again`);

    // The gateway's dependency is its token issuer.
    await issuer.close();
    await waitFor(async () => (await statusOf(`${bases.gateway}/ready`)) === 503, 30_000, 'the gateway not ready without its issuer');
    expect(await statusOf(`${bases.gateway}/health`)).toBe(200);

    // SIGTERM with PostgreSQL gone again (a shutdown in the wrong order): each still exits 0 within its bound.
    await proxy.cut();
    const stopped = await Promise.all([ingest, projector, retention, api, gateway].map(async (s) => ({ name: s.name, ...(await terminate(s)) })));
    for (const s of stopped) {
      expect(s.code, `${s.name} exit code`).toBe(0);
      expect(s.ms, `${s.name} stop time`).toBeLessThan(STOP_BOUND_MS);
    }
    console.log(`SIGTERM to exit: ${stopped.map((s) => `${s.name} ${s.ms} ms`).join(', ')}`);
  }, 400_000);
});
