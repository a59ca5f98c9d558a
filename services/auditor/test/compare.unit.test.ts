import { describe, expect, it } from 'vitest';
import { formatCompare, leafDifference } from '../src/compare.ts';

const bytes = Buffer.from('c30100000000000000006162636465', 'hex');
const exported = { position: 30n, leafIndex: 29, eventId: 'e-29', storedBytes: bytes };

describe('compare: what differs at one leaf', () => {
  it('nothing when the event, bytes and position are the same', () => {
    expect(leafDifference({ position: 30n, eventId: 'E-29', data: Buffer.from(bytes) }, exported)).toBeUndefined();
  });

  it('another event at the leaf: inserted, deleted or moved', () => {
    expect(leafDifference({ position: 30n, eventId: 'e-forged', data: bytes }, exported)).toMatchObject({ kind: 'event', leafIndex: 29, position: 30n, eventId: 'e-forged' });
  });

  it('other bytes: from which byte, and the lengths when they differ', () => {
    const edited = Buffer.from(bytes);
    edited[12] = 0x58;
    expect(leafDifference({ position: 30n, eventId: 'e-29', data: edited }, exported)!.message).toContain('differ from the export\'s from byte 12');
    const longer = Buffer.concat([bytes, Buffer.from([1])]);
    expect(leafDifference({ position: 30n, eventId: 'e-29', data: longer }, exported)!.message).toContain(`from byte ${bytes.length}; ${bytes.length + 1} bytes in the store, ${bytes.length} in the export`);
  });

  it('the same bytes at another position: renumbered', () => {
    expect(leafDifference({ position: 31n, eventId: 'e-29', data: bytes }, exported)).toMatchObject({ kind: 'position', position: 31n });
  });

  it('the summary names the first differing position', () => {
    const first = leafDifference({ position: 30n, eventId: 'e-forged', data: bytes }, exported)!;
    expect(formatCompare({ same: false, compared: 65, differing: 36, first, fromIndex: 0, toIndex: 64 }, 'x.avro')).toMatch(/^DIFFERS: first differing position 30 \(leaf index 29\): the store holds event e-forged/);
    expect(formatCompare({ same: true, compared: 0, differing: 0 }, 'x.avro')).toBe('SAME: the export x.avro holds no events');
  });
});
