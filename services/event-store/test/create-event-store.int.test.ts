import { describe, expect, it } from 'vitest';
import { createEventStore, MAX_EVENT_BYTES, STREAM_NAME_PATTERN } from '../src/index.ts';

describe('createEventStore(config)', () => {
  it('picks the adapter from the config', async () => {
    const store = await createEventStore({ adapter: 'pglite' });
    expect(store.adapter).toBe('pglite');
    await store.close();
  }, 60_000);

  it('refuses an unknown adapter and a postgres config without a connection', async () => {
    await expect(createEventStore({ adapter: 'mongo' } as never)).rejects.toThrow('Unknown event store adapter "mongo"');
    await expect(createEventStore({ adapter: 'postgres' })).rejects.toMatchObject({ code: 'SPB_ERR_CONFIG' });
    await expect(createEventStore({ adapter: 'pglite', schema: 'Bad-Name' })).rejects.toMatchObject({ code: 'SPB_ERR_CONFIG' });
  });

  it('exports the port constants', () => {
    expect(MAX_EVENT_BYTES).toBe(1_048_576);
    expect(STREAM_NAME_PATTERN.test('disclosures:org-1.person_2')).toBe(true);
  });
});
