import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEventStoreDbEventStore, globalLogRegex } from '../src/index.ts';
import { collect, expectSporbarError, makeEvents } from './support/helpers.ts';
import { testEventStore } from './conformance.ts';

/**
 * EventStoreDB runs the same conformance suite when EVENTSTORE_URL is set, e.g.
 *   EVENTSTORE_URL='esdb://127.0.0.1:2113?tls=false' npx vitest run test/eventstoredb.int.test.ts
 * No server is available in this environment, so without EVENTSTORE_URL the suite is skipped with
 * a printed reason (also under CI=true: EventStoreDB is documented as optional). Each test gets its
 * own namespace (stream-name prefix) on the shared server.
 */
const url = process.env.EVENTSTORE_URL;

testEventStore(
  'eventstoredb',
  async () => {
    const namespace = `t${randomBytes(5).toString('hex')}-`;
    return {
      open: () => createEventStoreDbEventStore({ connectionString: url!, namespace }),
      dispose: async () => undefined, // ESDB has no cheap drop; the namespace keeps runs apart
    };
  },
  url ? { eventsPerWriter: 2_000 } : { skip: 'EVENTSTORE_URL is not set (no EventStoreDB server here)' },
);

describe('eventstoredb global-log filter', () => {
  it('builds the $all event-type regex from a list, a prefix, or excludes system types', () => {
    expect(globalLogRegex({ eventTypes: ['DisclosureRecorded', 'Consent.Given'] })).toBe('^(?:DisclosureRecorded|Consent\\.Given)$');
    expect(new RegExp(globalLogRegex({ eventTypes: ['A.B'] })).test('AxB')).toBe(false);
    expect(globalLogRegex({ eventTypePrefix: 'sporbar.' })).toBe('^sporbar\\.');
    const dflt = new RegExp(globalLogRegex({}));
    expect(dflt.test('DisclosureRecorded')).toBe(true);
    expect(dflt.test('$sporbar-eventid')).toBe(false);
    expect(dflt.test('$metadata')).toBe(false);
  });
});

describe('eventstoredb adapter without a server', () => {
  it('reports an unreachable server as retriable SPB_ERR_STORE_UNAVAILABLE, and closed as SPB_ERR_STORE_CLOSED', async () => {
    const store = await createEventStoreDbEventStore({
      connectionString: 'esdb://127.0.0.1:1?tls=false',
      retry: { maxAttempts: 2, initialDelayMs: 5 },
    });
    const err = await expectSporbarError(store.append('s', makeEvents(1)), 'SPB_ERR_STORE_UNAVAILABLE');
    expect(err.retriable).toBe(true);
    await expectSporbarError(collect(store.readAll()), 'SPB_ERR_STORE_UNAVAILABLE');
    await expectSporbarError(store.append('bad name', makeEvents(1)), 'SPB_ERR_INVALID_STREAM_NAME');
    await store.close();
    await expectSporbarError(store.headPosition(), 'SPB_ERR_STORE_CLOSED');
  });
});
