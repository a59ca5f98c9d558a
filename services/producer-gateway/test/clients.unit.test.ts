import { describe, expect, it } from 'vitest';
import { parseProducerRegistry } from '@sporbar/schemas';
import { developmentCredential } from '@sporbar/key-store/producer-auth';
import { developmentProducerRegistry } from '@sporbar/key-store';
import { allowListsOf, authorizeByRegistry, clientsRegistryProblems, parseGatewayClients, producerOfClient } from '../src/index.ts';

describe('SPORBAR_GATEWAY_CLIENTS', () => {
  it('maps each client to its producer', () => {
    const clients = parseGatewayClients(' mitid-gw=mitid-core , nemkonto-gw=nemkonto,nemkonto-batch=nemkonto');
    expect(producerOfClient(clients)('mitid-gw')).toBe('mitid-core');
    expect(producerOfClient(clients)('nemkonto-batch')).toBe('nemkonto');
    expect(producerOfClient(clients)('stranger')).toBeUndefined();
  });

  it.each([
    ['', /names no client/],
    ['mitid-gw', /not <client id>=<producer id>/],
    ['mitid-gw=', /not <client id>=<producer id>/],
    ['mitid-gw=mitid-core:ConsentGiven', /event types are no longer listed here/],
    ['mitid-gw=MitID Core', /not <client id>/],
    ['mitid-gw=MitID', /producer id must match/],
    ['a=b,a=c', /named twice/],
  ])('refuses %j', (text, why) => {
    expect(() => parseGatewayClients(text)).toThrow(why);
  });
});

describe("the producer registry's allow-lists at the gateway", () => {
  const registry = developmentProducerRegistry();
  const authorize = authorizeByRegistry(registry, 'http-ingest');

  it("decides as the registry's authorize(): the client's producer's event types and activities, naming the field at fault", () => {
    expect(authorize('mitid-core', 'ConsentGiven', 'mitid-support')).toEqual({ ok: false, path: 'activity', reason: 'producer mitid-core may not send ConsentGiven for activity mitid-support' });
    expect(authorize('mitid-core', 'DisclosureRecorded', 'mitid-core')).toEqual({ ok: true });
    expect(authorize('mitid-support', 'ConsentGiven', 'mitid-support')).toEqual({ ok: true });
    expect(authorize('mitid-core', 'ErasureRequested', null)).toEqual({ ok: false, path: 'type', reason: 'producer mitid-core may not send ErasureRequested' });
    expect(authorize('nemkonto', 'DisclosureRecorded', 'nemkonto-register')).toEqual({ ok: true });
    expect(authorize('nemkonto', 'DisclosureRecorded', 'mitid-core')).toMatchObject({ ok: false, path: 'activity' });
    expect(authorize('stranger', 'DisclosureRecorded', 'mitid-core')).toMatchObject({ ok: false, path: 'type', reason: expect.stringContaining('not in the producer registry') });
  });

  it('checks the clients against the registry at start, every problem at once', () => {
    expect(clientsRegistryProblems(parseGatewayClients('a=mitid-core,b=nemkonto,c=mitid-support'), registry, 'http-ingest')).toEqual([]);
    expect(clientsRegistryProblems(parseGatewayClients('a=stranger,b=sporbar-access-api,c=sporbar-privacy-desk'), registry, 'http-ingest')).toEqual([
      'client a: producer stranger is not in the producer registry',
      "client b: producer sporbar-access-api is one of Sporbar's own principals, not an operational system",
      "client c: producer sporbar-privacy-desk is not among the sourceSystems of the gateway's registry entry http-ingest",
    ]);
    expect(clientsRegistryProblems(parseGatewayClients('a=mitid-core'), registry, 'no-such-gateway')).toEqual([
      "the gateway's own producer no-such-gateway (SPORBAR_GATEWAY_PRODUCER_ID) is not in the producer registry",
    ]);
  });

  it('keeps the allow-lists, never the keys', () => {
    const kept = allowListsOf(parseProducerRegistry({ producers: [{ id: 'p', name: 'p', keys: [developmentCredential('p')], eventTypes: ['ConsentGiven'], activities: ['mitid-support'] }] }));
    expect(kept.producers).toEqual([{ id: 'p', name: 'p', internal: false, sourceSystems: ['p'], keys: [], eventTypes: ['ConsentGiven'], activities: ['mitid-support'] }]);
    expect(JSON.stringify(allowListsOf(registry))).not.toContain('secret');
  });
});
