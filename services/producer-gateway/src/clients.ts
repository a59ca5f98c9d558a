/**
 * Which OAuth2 clients may write, as which producer, and which event types: pure parsing of
 * SPORBAR_GATEWAY_CLIENTS and the default `authorize` built from it.
 *
 *   SPORBAR_GATEWAY_CLIENTS='mitid-core-gw=mitid-core:DisclosureRecorded+ConsentGiven+ConsentWithdrawn,nemkonto-gw=nemkonto:DisclosureRecorded'
 *
 * Each entry is `<client id>=<producer id>:<event type>+<event type>…`. Every client names at least
 * one event type: there is no "allow everything".
 */
import { SporbarError } from '@sporbar/common/errors';
import { HTTP_EVENT_TYPES, type HttpEventType } from './request-schema.ts';

export interface GatewayClient {
  readonly clientId: string;
  /** The producer the client writes as: the recorded events' sourceSystem. */
  readonly producerId: string;
  readonly eventTypes: ReadonlySet<HttpEventType>;
}

/** client id → its producer and allowed event types. */
export type GatewayClients = ReadonlyMap<string, GatewayClient>;

/**
 * Whether `producerId` may send an event of `eventType` for `activity` (null: an erasure request
 * for every activity). The seam for a producer registry: passed into buildHttpIngest.
 */
export type Authorize = (producerId: string, eventType: HttpEventType, activity: string | null) => boolean | Promise<boolean>;

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
  if (entries.length === 0) refuse('names no client: use <client id>=<producer id>:<EventType>+<EventType>,…');
  for (const [i, entry] of entries.entries()) {
    const m = /^([^=\s]+)=([^:\s]+):(\S+)$/.exec(entry);
    if (!m) return refuse(`entry ${i + 1} is not <client id>=<producer id>:<EventType>+<EventType>…`);
    const [, clientId, producerId, types] = m as unknown as [string, string, string, string];
    if (!CLIENT_ID.test(clientId)) refuse(`entry ${i + 1}: the client id has characters outside [A-Za-z0-9._:-] or is too long`);
    if (!PRODUCER_ID.test(producerId)) refuse(`entry ${i + 1} (${clientId}): the producer id must match ${PRODUCER_ID.source}`);
    if (clients.has(clientId)) refuse(`entry ${i + 1}: client ${clientId} is named twice`);
    const eventTypes = new Set<HttpEventType>();
    for (const t of types.split('+')) {
      if (!(HTTP_EVENT_TYPES as readonly string[]).includes(t)) refuse(`entry ${i + 1} (${clientId}): ${t || '(empty)'} is not one of ${HTTP_EVENT_TYPES.join(', ')}`);
      eventTypes.add(t as HttpEventType);
    }
    clients.set(clientId, { clientId, producerId, eventTypes });
  }
  return clients;
}

/** The producer a client writes as, or undefined for a client that is not configured. */
export const producerOfClient = (clients: GatewayClients) => (clientId: string): string | undefined => clients.get(clientId)?.producerId;

/**
 * The default authorize: a producer may send the event types its clients were configured with, for
 * any activity (the activity allow-list belongs to the producer registry).
 */
export function authorizeByEventType(clients: GatewayClients): Authorize {
  const byProducer = new Map<string, Set<HttpEventType>>();
  for (const c of clients.values()) {
    const set = byProducer.get(c.producerId) ?? new Set<HttpEventType>();
    for (const t of c.eventTypes) set.add(t);
    byProducer.set(c.producerId, set);
  }
  return (producerId, eventType) => byProducer.get(producerId)?.has(eventType) === true;
}
