/**
 * Which OAuth2 clients may write, and as which producer: pure parsing of SPORBAR_GATEWAY_CLIENTS, and
 * the `authorize` decision from the producer registry (the same JSON and the same pure `authorize()`
 * the ingest applies, `@sporbar/schemas` register/producers.ts).
 *
 *   SPORBAR_GATEWAY_CLIENTS='mitid-core-gw=mitid-core,nemkonto-gw=nemkonto'
 *
 * Each entry is `<client id>=<producer id>`. What a producer may send (event types and processing
 * activities) is the producer registry's allow-list, in one place for Kafka and HTTP alike.
 */
import { SporbarError } from '@sporbar/common/errors';
import { authorize as registryAuthorize, findProducer, type ProducerRegistry } from '@sporbar/schemas';
import type { HttpEventType } from './request-schema.ts';

export interface GatewayClient {
  readonly clientId: string;
  /** The producer the client writes as (its entry in the producer registry): the recorded events' sourceSystem. */
  readonly producerId: string;
}

/** client id → its producer. */
export type GatewayClients = ReadonlyMap<string, GatewayClient>;

/** Why an item is refused: the field at fault (its event type, or its activity) and the reason. */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly path: 'type' | 'activity'; readonly reason: string };

/**
 * Whether `producerId` may send an event of `eventType` for `activity` (null: an event without one, or
 * an erasure request for every activity). Passed into buildHttpIngest; `authorizeByRegistry` is the one
 * main.ts uses.
 */
export type Authorize = (producerId: string, eventType: HttpEventType, activity: string | null) => Verdict;

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** A producer id: what the events carry as sourceSystem. */
export const PRODUCER_ID = /^[a-z0-9][a-z0-9._-]{0,79}$/;

const refuse = (message: string): never => {
  throw new SporbarError('SPB_ERR_CONFIG', message);
};

/** Parses SPORBAR_GATEWAY_CLIENTS; SPB_ERR_CONFIG naming the entry that is wrong. */
export function parseGatewayClients(text: string): GatewayClients {
  const clients = new Map<string, GatewayClient>();
  const entries = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (entries.length === 0) refuse('names no client: use <client id>=<producer id>,…');
  for (const [i, entry] of entries.entries()) {
    if (/^[^=\s]+=[^:\s]+:/.test(entry)) {
      refuse(`entry ${i + 1}: event types are no longer listed here (the producer registry's allow-list decides them): write <client id>=<producer id>`);
    }
    const m = /^([^=\s]+)=(\S+)$/.exec(entry);
    if (!m) return refuse(`entry ${i + 1} is not <client id>=<producer id>`);
    const [, clientId, producerId] = m as unknown as [string, string, string];
    if (!CLIENT_ID.test(clientId)) refuse(`entry ${i + 1}: the client id has characters outside [A-Za-z0-9._:-] or is too long`);
    if (!PRODUCER_ID.test(producerId)) refuse(`entry ${i + 1} (${clientId}): the producer id must match ${PRODUCER_ID.source}`);
    if (clients.has(clientId)) refuse(`entry ${i + 1}: client ${clientId} is named twice`);
    clients.set(clientId, { clientId, producerId });
  }
  return clients;
}

/** The producer a client writes as, or undefined for a client that is not configured. */
export const producerOfClient = (clients: GatewayClients) => (clientId: string): string | undefined => clients.get(clientId)?.producerId;

/**
 * Problems between the clients and the registry, all at once (empty: none): every client's producer
 * must be an operational system of the registry, and one the gateway's own registry entry may declare
 * as sourceSystem (else the ingest would dead-letter every event the gateway accepted for it). Pure.
 */
export function clientsRegistryProblems(clients: GatewayClients, registry: ProducerRegistry, gatewayProducerId: string): string[] {
  const problems: string[] = [];
  const gateway = findProducer(registry, gatewayProducerId);
  if (!gateway) problems.push(`the gateway's own producer ${gatewayProducerId} (SPORBAR_GATEWAY_PRODUCER_ID) is not in the producer registry`);
  for (const c of clients.values()) {
    const entry = findProducer(registry, c.producerId);
    if (!entry) problems.push(`client ${c.clientId}: producer ${c.producerId} is not in the producer registry`);
    else if (entry.internal) problems.push(`client ${c.clientId}: producer ${c.producerId} is one of Sporbar's own principals, not an operational system`);
    else if (gateway && !gateway.sourceSystems.includes(c.producerId)) {
      problems.push(`client ${c.clientId}: producer ${c.producerId} is not among the sourceSystems of the gateway's registry entry ${gatewayProducerId}`);
    }
  }
  return problems;
}

/** A registry's allow-lists without its keys: what the gateway keeps (it never signs as its clients' producers). */
export function allowListsOf(registry: ProducerRegistry): ProducerRegistry {
  return { development: registry.development, producers: registry.producers.map((p) => ({ ...p, keys: [] })) };
}

/** authorize() of the registry, with the field at fault: the type when the producer may not send it at all, else the activity. */
function verdictOf(registry: ProducerRegistry, producerId: string, eventType: HttpEventType, activity: string | null): Verdict {
  const verdict = registryAuthorize(registry, producerId, eventType, activity);
  if (verdict.ok) return { ok: true };
  const typeAllowed = (findProducer(registry, producerId)?.eventTypes as readonly string[] | undefined)?.includes(eventType) === true;
  return { ok: false, path: typeAllowed ? 'activity' : 'type', reason: verdict.reason };
}

/**
 * The producer registry's decision, as the ingest will take it: the client's producer's allow-list
 * (event types and activities), and the gateway's own entry, which the ingest checks the event
 * against (it is authenticated as the gateway). Pure.
 */
export function authorizeByRegistry(registry: ProducerRegistry, gatewayProducerId: string): Authorize {
  return (producerId, eventType, activity) => {
    const own = verdictOf(registry, producerId, eventType, activity);
    return own.ok ? verdictOf(registry, gatewayProducerId, eventType, activity) : own;
  };
}
