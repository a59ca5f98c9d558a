import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteEventStore, type EventStore, type EventToAppend } from '@sporbar/event-store';
import { register, type DisclosureRecorded } from '@sporbar/schemas';
import { codec, disclosureOf, stored, uuid } from './support/disclosures.ts';
import { allProjections, createProjectionRunner, fromPglite, type AnyProjection, type QuarantineEntry, type SqlDatabase } from '../src/index.ts';

/** A poison event is quarantined, not fatal: every read model keeps moving; a fixed projection re-applies it exactly once. */
const flow = register.activities[0]!.flows[0]!;
const disclosure = (over: Partial<DisclosureRecorded> = {}): DisclosureRecorded => disclosureOf('q', over);

/** A probe read model whose project() throws on one event until it is "fixed" (version 2); a second apply of an event would violate its key. */
const probe = (poisonId: string, fixed: boolean): AnyProjection => ({
  name: 'probe',
  version: fixed ? '2' : '1',
  ddl: ['CREATE TABLE IF NOT EXISTS {prefix}probe (event_id text PRIMARY KEY)'],
  tables: ['probe'],
  project: (e) => {
    if (e.eventId === poisonId && !fixed) throw new TypeError('probe cannot take this event');
    return [e.eventId];
  },
  apply: async (tx, changes: readonly string[], prefix) => {
    for (const id of changes) await tx.query(`INSERT INTO ${prefix}probe (event_id) VALUES ($1)`, [id]);
  },
});

let pglite: PGlite;
let db: SqlDatabase;
let store: EventStore;
const good: DisclosureRecorded[] = [];
let nul: DisclosureRecorded;
let throwing: DisclosureRecorded;
let head: bigint;

beforeAll(async () => {
  pglite = new PGlite();
  db = fromPglite(pglite);
  store = await createPgliteEventStore({ db: pglite });
  for (let i = 0; i < 3; i++) good.push(disclosure());
  nul = disclosure({ recipient: { id: `bad\u0000id`, role: flow.roles[0]! } });
  throwing = disclosure();
  const later = [disclosure(), disclosure()];
  good.push(throwing, ...later);
  const garbage: EventToAppend = { eventId: uuid(), type: 'DisclosureRecorded', data: new Uint8Array([0xc3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), metadata: {} };
  const log = [stored(good[0]!), stored(good[1]!), stored(nul), garbage, stored(good[2]!), stored(throwing), stored(later[0]!), stored(later[1]!)];
  for (const e of log) await store.append('quarantine-test', [e]);
  head = await store.headPosition();
});
afterAll(async () => {
  await store?.close();
  await pglite?.close();
});

const count = async (sql: string) => Number((await db.query<{ n: number }>(sql)).rows[0]!.n);

describe('poison events are quarantined, not fatal', () => {
  it('an undecodable event, one the database refuses and one a projection throws on: every read model moves on, exact counts; the fix re-applies once', async () => {
    const seen: QuarantineEntry[] = [];
    const errors: unknown[] = [];
    const projections = [...allProjections(register), probe(throwing.eventId, false)];
    const runner = createProjectionRunner({ store, db, codec, projections, onQuarantine: (q) => seen.push(q), onError: (e) => errors.push(e) });
    await runner.start();
    await runner.waitFor(head);
    await runner.stop();
    expect(errors).toEqual([]);
    expect(runner.position).toBe(head);
    // 6 good disclosures projected everywhere they can be; the NUL one nowhere it would store its recipient.
    expect(await count('SELECT count(*)::int AS n FROM rm_subject_disclosures')).toBe(6);
    expect(await count('SELECT count(*)::int AS n FROM rm_probe')).toBe(6); // 8 events - garbage - the one it threw on; the NUL one it takes (it stores no text of it)
    const rows = (await db.query<{ projection: string; event_id: string; reason_code: string; message: string }>('SELECT projection, event_id, reason_code, message FROM projection_quarantine ORDER BY position, projection')).rows;
    const byEvent = (id: string) => rows.filter((r) => r.event_id === id).map((r) => r.projection);
    expect(rows.filter((r) => r.projection === '*')).toHaveLength(1);
    expect(byEvent(throwing.eventId)).toEqual(['probe']);
    expect(byEvent(nul.eventId)).toEqual(['compliance-alerts', 'recipient-ledger', 'subject-disclosures']);
    expect(rows).toHaveLength(5);
    expect(seen).toHaveLength(rows.length);
    expect(runner.quarantined).toBe(rows.length);
    // Codes and fixed texts only: never the event's values.
    for (const r of rows) {
      expect(r.message).not.toContain('bad');
      expect(r.reason_code).toMatch(/^[A-Z0-9_]+$/);
    }
    console.log('quarantined:', rows.map((r) => `${r.projection}:${r.reason_code}`).join(', '));

    // The fixed probe (version 2): re-applied on start, exactly once; a second start changes nothing.
    const fixed = [...allProjections(register), probe(throwing.eventId, true)];
    for (let i = 0; i < 2; i++) {
      const again = createProjectionRunner({ store, db, codec, projections: fixed, onError: (e) => errors.push(e) });
      await again.start();
      await again.stop();
    }
    expect(errors).toEqual([]);
    expect(await count('SELECT count(*)::int AS n FROM rm_probe')).toBe(7);
    expect(await count(`SELECT count(*)::int AS n FROM projection_quarantine WHERE projection = 'probe' AND resolved_at IS NOT NULL`)).toBe(1);
    // What the database refused stays quarantined (the projection did not change).
    expect(await count(`SELECT count(*)::int AS n FROM projection_quarantine WHERE resolved_at IS NULL`)).toBe(rows.length - 1);
  });
});
