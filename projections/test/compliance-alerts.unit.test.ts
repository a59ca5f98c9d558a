import { describe, expect, it } from 'vitest';
import { register } from '@sporbar/schemas';
import { createComplianceAlerts, type ComplianceChange, type ProjectedEvent } from '../src/index.ts';
import { codec, disclosureOf } from './support/disclosures.ts';
import { storedMetadata } from '../bench/generate.ts';

/** The compliance alerts carry the producer the ingest authenticated (metadata `producer`): pure project(), no database. */
const alerts = createComplianceAlerts(register);
const consentFlow = register.activities.flatMap((a) => a.flows.map((flow) => ({ activity: a.id, flow }))).find(({ flow }) => flow.consentScopes.length > 0)!;

/** A disclosure as the projector sees it: stored metadata (classification) and, when given, the authenticated producer. */
function projected(over: Parameters<typeof disclosureOf>[1], producer?: string): ProjectedEvent {
  const data = disclosureOf('p', over);
  const metadata = { ...storedMetadata(register, codec, 'DisclosureRecorded', data), ...(producer ? { producer } : {}) };
  return { type: 'DisclosureRecorded', data, eventId: data.eventId, globalPosition: 7n, metadata };
}

const rowOf = (changes: ComplianceChange[]) => {
  expect(changes).toHaveLength(1);
  const [c] = changes;
  if (c!.kind === 'consent') throw new Error('not an alert');
  return c!.row;
};

describe('compliance alerts projection (pure): the producer', () => {
  it('an undeclared disclosure: the alert names the authenticated producer', () => {
    const row = rowOf(alerts.project(projected({ recipient: { id: 'nobody-declared', role: 'PROCESSOR' } }, 'mitid-core')));
    expect(row.reasons).toContain('RECIPIENT_NOT_DECLARED');
    expect(row.producer).toBe('mitid-core');
  });

  it('a consent-based disclosure (an alert unless consent is in force): the alert names the producer too', () => {
    const { activity, flow } = consentFlow;
    const changes = alerts.project(
      projected({ activity, recipient: { id: flow.recipientId, role: flow.roles[0]! }, purpose: flow.purposeIds[0]!, legalBases: [...flow.legalBases], dataCategories: flow.categoryIds.slice(0, 1) }, 'mitid-support'),
    );
    expect(changes[0]).toMatchObject({ kind: 'needs-consent', scopes: flow.consentScopes });
    expect(rowOf(changes)).toMatchObject({ reasons: ['CONSENT_MISSING'], producer: 'mitid-support' });
  });

  it('a disclosure stored without a producer (before producer authentication): null, never a guess from sourceSystem', () => {
    const row = rowOf(alerts.project(projected({ recipient: { id: 'nobody-declared', role: 'PROCESSOR' }, sourceSystem: 'nemkonto' })));
    expect(row.producer).toBeNull();
  });

  it('the same event gives the same alert (a rebuild reproduces it)', () => {
    const event = projected({ recipient: { id: 'nobody-declared', role: 'PROCESSOR' } }, 'nemkonto');
    expect(alerts.project(event)).toEqual(alerts.project(event));
  });
});
