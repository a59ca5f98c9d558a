import { createEventStoreDbEventStore, type EventStoreDbEventStoreOptions } from './eventstoredb/eventstoredb-event-store.ts';
import { createPgliteEventStore, type PgliteEventStoreOptions } from './pglite/pglite-event-store.ts';
import { createPostgresEventStore, type PostgresEventStoreOptions } from './postgres/postgres-event-store.ts';
import { configError } from './errors.ts';
import type { EventStore } from './port.ts';

export type EventStoreConfig =
  | ({ readonly adapter: 'pglite' } & PgliteEventStoreOptions)
  | ({ readonly adapter: 'postgres' } & PostgresEventStoreOptions)
  | ({ readonly adapter: 'eventstoredb' } & EventStoreDbEventStoreOptions);

/** Picks the adapter from configuration. */
export async function createEventStore(config: EventStoreConfig): Promise<EventStore> {
  switch (config.adapter) {
    case 'pglite':
      return createPgliteEventStore(config);
    case 'postgres':
      return createPostgresEventStore(config);
    case 'eventstoredb':
      return createEventStoreDbEventStore(config);
    default: {
      const never: never = config;
      throw configError(`Unknown event store adapter ${JSON.stringify((never as { adapter: unknown }).adapter)}.`);
    }
  }
}
