import { describe, expect, it } from 'vitest';
import { authorizeByEventType, parseGatewayClients, producerOfClient } from '../src/index.ts';

describe('SPORBAR_GATEWAY_CLIENTS', () => {
  it('maps each client to its producer and event types', () => {
    const clients = parseGatewayClients(' mitid-gw=mitid-core:DisclosureRecorded+ConsentGiven , nemkonto-gw=nemkonto:DisclosureRecorded,nemkonto-batch=nemkonto:ErasureRequested');
    expect(producerOfClient(clients)('mitid-gw')).toBe('mitid-core');
    expect(producerOfClient(clients)('stranger')).toBeUndefined();
    const authorize = authorizeByEventType(clients);
    expect(authorize('mitid-core', 'ConsentGiven', 'mitid-support')).toBe(true);
    expect(authorize('mitid-core', 'ErasureRequested', null)).toBe(false);
    // A producer's clients together make its allow-list.
    expect(authorize('nemkonto', 'ErasureRequested', null)).toBe(true);
    expect(authorize('nemkonto', 'DisclosureRecorded', 'x')).toBe(true);
    expect(authorize('unknown', 'DisclosureRecorded', 'x')).toBe(false);
  });

  it.each([
    ['', /names no client/],
    ['mitid-gw=mitid-core', /not <client id>/],
    ['mitid-gw=mitid-core:', /not <client id>/],
    ['mitid-gw=mitid-core:Everything', /Everything is not one of/],
    ['mitid-gw=mitid-core:ReportViewed', /ReportViewed is not one of/],
    ['mitid-gw=mitid-core:ConsentGiven+', /\(empty\) is not one of/],
    ['mitid-gw=MitID Core:ConsentGiven', /not <client id>/],
    ['mitid-gw=MitID:ConsentGiven', /producer id must match/],
    ['a=b:ConsentGiven,a=c:ConsentGiven', /named twice/],
  ])('refuses %j', (text, why) => {
    expect(() => parseGatewayClients(text)).toThrow(why);
  });
});
