import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { generateSigningKey } from '../src/checkpoint/signed-tree-head.ts';
import { ORIGIN_METADATA_KEY, signCheckpointEvent } from '../src/checkpoint/checkpoint-event.ts';
import { compareExport, formatCompare } from '../src/compare.ts';
import { exportLog, exportReference } from '../src/export.ts';
import { CHECKPOINT_STREAM } from '../src/log/source.ts';
import { CompactRange } from '../src/merkle/compact-range.ts';
import { formatReport, verifyLog, type Finding, type VerifyReport } from '../src/verify.ts';
import { ORIGIN, codec, disclosure, toAppend, writeLog, type TestLog, type WrittenLog } from './support.ts';

/**
 * The tamper suite, run on PGlite and on PostgreSQL: a log of 6 × 10 disclosures, each chunk followed
 * by a signed checkpoint (checkpoint k is leaf 11k-1 at position 11k and certifies 11k-1 leaves), plus
 * 3 uncovered events: 69 rows. Then raw SQL against the store's tables (`{events}`, `{positions}`:
 * see TestLog.sql) does what an insider with database access could do, and `verify`, reading through
 * the port, must catch it and name where.
 */
type Open = () => Promise<TestLog>;

async function run(log: TestLog, written: WrittenLog, knownCheckpoints: string[] = []): Promise<{ report: VerifyReport; first: Finding }> {
  const report = await verifyLog({ source: log.source, codec, publicKey: written.key, knownCheckpoints });
  expect(report.ok, formatReport(report)).toBe(false);
  return { report, first: report.findings[0]! };
}

/** Appends a well-formed event at the tail behind the store's back, as an insider would: the next position, the counter moved along. */
async function insertAtTail(log: TestLog, i: number): Promise<{ eventId: string; position: bigint }> {
  const forged = disclosure(i);
  const [{ last }] = (await log.sql('SELECT last FROM {positions}')) as [{ last: string | number }];
  const position = BigInt(last) + 1n;
  await log.sql(`INSERT INTO {events} (global_position, event_id, stream_name, stream_revision, event_type, data) VALUES ($1, $2, 'subject-forged', 0, 'DisclosureRecorded', $3)`, [
    position.toString(),
    forged.eventId,
    codec.encode('DisclosureRecorded', forged),
  ]);
  await log.sql('UPDATE {positions} SET last = last + 1');
  return { eventId: forged.eventId, position };
}

/** An export of the whole covered log (what an auditor keeps), then a way to remove it. */
async function exportNow(log: TestLog): Promise<{ path: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'sporbar-tamper-'));
  const path = join(dir, 'log.ndjson');
  await exportLog({ source: log.source, codec, format: 'ndjson', out: path });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function setByte(log: TestLog, position: number, offsetFromEnd: number, value: number): Promise<void> {
  await log.sql(`UPDATE {events} SET data = set_byte(data, length(data) - $2, $3) WHERE global_position = $1`, [position, offsetFromEnd, value]);
}

export function tamperSuite(open: Open): void {
  const withLog = (name: string, fn: (log: TestLog, written: WrittenLog) => Promise<void>) =>
    it(name, async () => {
      const log = await open();
      try {
        const written = await writeLog(log.store);
        const clean = await verifyLog({ source: log.source, codec, publicKey: written.key });
        expect(clean.ok, formatReport(clean)).toBe(true);
        expect(clean).toMatchObject({ leaves: 69, checkpoints: 6, checkpointsVerified: 6, consistencyProofsChecked: 5, latestVerifiedTreeSize: 65, origin: ORIGIN });
        await fn(log, written);
      } finally {
        await log.close();
      }
    });

  withLog('an edited byte that keeps valid Avro: bounded to the leaves between two checkpoints', async (log, written) => {
    await setByte(log, 30, 1, 'X'.charCodeAt(0)); // the last character of correlationId 'payment-N'
    const { first, report } = await run(log, written);
    expect(first.kind).toBe('root');
    expect(first.message).toContain('checkpoint at tree size 32 (position 33');
    expect(first.range).toMatchObject({ fromIndex: 21, toIndex: 31, fromPosition: 22n, toPosition: 32n });
    expect(first.message).toContain('leaf index 21..31 (positions 22..32');
    expect(report.latestVerifiedTreeSize).toBe(21);
    expect(first.message).toMatch(/3 later checkpoint\(s\) disagree/);
  });

  withLog('an edited byte that keeps valid Avro, with an earlier export as reference: the exact leaf is named; compare names it too', async (log, written) => {
    const saved = await exportNow(log);
    try {
      await setByte(log, 30, 1, 'X'.charCodeAt(0));
      const reference = await exportReference(saved.path, written.key);
      const report = await verifyLog({ source: log.source, codec, publicKey: written.key, reference });
      expect(report.ok).toBe(false);
      const first = report.findings[0]!;
      expect(first).toMatchObject({ kind: 'root', index: 29, position: 30n, eventId: written.leaves[29] });
      expect(first.message).toContain(`first differing leaf is at leaf index 29 / position 30 (event ${written.leaves[29]}): its stored bytes differ from the export`);
      const c = await compareExport({ source: log.source, path: saved.path });
      expect(c).toMatchObject({ same: false, compared: 65, differing: 1, first: { kind: 'bytes', leafIndex: 29, position: 30n, eventId: written.leaves[29] } });
      expect(formatCompare(c, saved.path)).toMatch(/^DIFFERS: first differing position 30 \(leaf index 29\)/);
    } finally {
      saved.remove();
    }
  });

  withLog('an event inserted at the tail with the position counter moved: reported as uncovered, a failure beyond the grace', async (log, written) => {
    const forged = await insertAtTail(log, 997);
    expect(forged.position).toBe(70n);
    const within = await verifyLog({ source: log.source, codec, publicKey: written.key });
    // Within the grace the log is not failed, but never silently OK: the uncovered tail is named.
    expect(within.ok, formatReport(within)).toBe(true);
    expect(within.uncoveredEvents).toBe(4);
    expect(within.warnings).toMatchObject([{ kind: 'uncovered', index: 66, position: 67n }]);
    expect(formatReport(within)).toMatch(/^OK \(with warnings\)/);
    expect(within.warnings[0]!.message).toContain('4 event(s) after tree size 65 are not covered by any signed checkpoint, positions 67..70');
    // Ten minutes later (beyond the default five), or with a grace of three events, verify fails.
    const later = await verifyLog({ source: log.source, codec, publicKey: written.key, now: new Date(Date.now() + 10 * 60_000) });
    expect(later.ok).toBe(false);
    expect(later.findings).toMatchObject([{ kind: 'uncovered', index: 66, position: 67n }]);
    expect(later.findings[0]!.message).toContain('beyond the grace of 5.0 min');
    const counted = await verifyLog({ source: log.source, codec, publicKey: written.key, tailGrace: { events: 3 } });
    expect(counted.findings).toMatchObject([{ kind: 'uncovered' }]);
    // The explicit escape hatch turns it back into a warning.
    expect((await verifyLog({ source: log.source, codec, publicKey: written.key, now: new Date(Date.now() + 10 * 60_000), allowUncoveredTail: true })).ok).toBe(true);
  });

  withLog('an event inserted at the tail, then a checkpoint that does not include it: the mismatch names its exact position', async (log, written) => {
    // The signer's view: every leaf so far, and a checkpoint covering the three tail events.
    const signer = new CompactRange();
    await log.source.scan((row) => signer.appendLeaf(Buffer.from(row.data)));
    const sign = async () => {
      const { event } = signCheckpointEvent({ origin: ORIGIN, treeSize: signer.size, rootHash: signer.root() }, written.key);
      const data = codec.encode('CheckpointSigned', event);
      await log.store.append(CHECKPOINT_STREAM, [{ eventId: event.eventId, type: 'CheckpointSigned', data, metadata: { [ORIGIN_METADATA_KEY]: ORIGIN } }]);
      signer.appendLeaf(data);
    };
    await sign(); // size 69, leaf 69, position 70
    const forged = await insertAtTail(log, 996); // leaf 70, position 71: the signer never sees it
    const legit = disclosure(70);
    await log.store.append(`subject-${legit.subject.value}`, [toAppend(legit)]); // position 72
    signer.appendLeaf(codec.encode('DisclosureRecorded', legit));
    await sign(); // size 71 over the signer's 71 leaves
    const { first } = await run(log, written);
    expect(first).toMatchObject({ kind: 'root', index: 70, position: 71n, eventId: forged.eventId });
    expect(first.message).toContain('checkpoint at tree size 71');
    expect(first.message).toContain('first differing leaf is at leaf index 70 / position 71');
    expect(first.message).toContain('it is the only leaf between the matching checkpoint of tree size 69 and this one that is not a verified checkpoint');
  });

  withLog('an edited byte inside the event id: the exact leaf is named', async (log, written) => {
    // byte 12 of the body is inside the eventId string (header 10 bytes + length 1 byte)
    await log.sql(`UPDATE {events} SET data = set_byte(data, 14, get_byte(data, 14) # 1) WHERE global_position = 30`);
    const { first } = await run(log, written);
    expect(first).toMatchObject({ kind: 'root', index: 29, position: 30n, eventId: written.leaves[29] });
    expect(first.message).toContain('first differing leaf is at leaf index 29 / position 30');
  });

  withLog('a deleted event: the gap names the position', async (log, written) => {
    await log.sql('DELETE FROM {events} WHERE global_position = 30');
    const { first, report } = await run(log, written);
    expect(first).toMatchObject({ kind: 'gap', index: 29, position: 31n });
    expect(first.message).toContain('positions 30 are missing before leaf index 29 / position 31');
    const root = report.findings.find((f) => f.kind === 'root')!;
    expect(root).toMatchObject({ index: 29, position: 31n });
    expect(root.message).toContain('checkpoint at tree size 32');
  });

  withLog('two events swapped (their data exchanged): the first of them is named', async (log, written) => {
    await log.sql(
      `UPDATE {events} e SET data = o.data FROM {events} o
        WHERE (e.global_position, o.global_position) IN ((25, 28), (28, 25))`,
    );
    const { first } = await run(log, written);
    expect(first).toMatchObject({ kind: 'root', index: 24, position: 25n, eventId: written.leaves[24] });
    expect(first.message).toContain(`its stored bytes are those of event ${written.leaves[27]}`);
  });

  withLog('an inserted event (positions renumbered, counter moved): bounded between two checkpoints; an export pins it', async (log, written) => {
    const saved = await exportNow(log);
    const forged = disclosure(999);
    await log.sql('UPDATE {events} SET global_position = -global_position - 1 WHERE global_position >= 30');
    await log.sql('UPDATE {events} SET global_position = -global_position WHERE global_position < 0');
    await log.sql(`INSERT INTO {events} (global_position, event_id, stream_name, stream_revision, event_type, data) VALUES (30, $1, 'subject-forged', 0, 'DisclosureRecorded', $2)`, [
      forged.eventId,
      codec.encode('DisclosureRecorded', forged),
    ]);
    await log.sql('UPDATE {positions} SET last = last + 1');
    const { first } = await run(log, written);
    expect(first.kind).toBe('root');
    expect(first.message).toContain('checkpoint at tree size 32 (position 34');
    expect(first.range).toMatchObject({ fromIndex: 21, toIndex: 31, fromPosition: 22n, toPosition: 32n });
    try {
      const c = await compareExport({ source: log.source, path: saved.path });
      expect(c.first).toMatchObject({ kind: 'event', leafIndex: 29, position: 30n, eventId: forged.eventId });
      const pinned = await verifyLog({ source: log.source, codec, publicKey: written.key, reference: await exportReference(saved.path, written.key) });
      expect(pinned.findings[0]).toMatchObject({ kind: 'root', index: 29, position: 30n, eventId: forged.eventId });
      expect(pinned.findings[0]!.message).toContain(`holds event ${written.leaves[29]} (position 30) at this leaf index: an event was inserted, deleted or moved here`);
    } finally {
      saved.remove();
    }
  });

  withLog('an inserted event beyond the position counter is named', async (log, written) => {
    await log.sql('UPDATE {events} SET global_position = -global_position - 1 WHERE global_position >= 30');
    await log.sql('UPDATE {events} SET global_position = -global_position WHERE global_position < 0');
    const forged = disclosure(998);
    await log.sql(`INSERT INTO {events} (global_position, event_id, stream_name, stream_revision, event_type, data) VALUES (30, $1, 'subject-forged', 0, 'DisclosureRecorded', $2)`, [
      forged.eventId,
      codec.encode('DisclosureRecorded', forged),
    ]);
    const { report } = await run(log, written);
    expect(report.findings.find((f) => f.kind === 'bookkeeping')).toMatchObject({ index: 69, position: 70n });
  });

  withLog('a replaced checkpoint signature: the checkpoint is named', async (log, written) => {
    const cp = written.checkpoints[2]!; // tree size 32, position 33
    const other = signCheckpointEvent({ origin: ORIGIN, treeSize: cp.treeSize, rootHash: Buffer.alloc(32, 7) }, generateSigningKey()).event.signature;
    await log.sql(`UPDATE {events} SET data = substring(data FROM 1 FOR length(data) - 64) || $1::bytea WHERE global_position = $2`, [other, Number(cp.position)]);
    const { first, report } = await run(log, written);
    expect(first).toMatchObject({ kind: 'signature', index: 32, position: 33n, eventId: cp.eventId });
    expect(first.message).toContain('the signature does not verify');
    // The next checkpoint covers the altered leaf: its mismatch is pinned to the same leaf.
    expect(report.findings.find((f) => f.kind === 'root')).toMatchObject({ index: 32, position: 33n });
  });

  it('a log with events and no checkpoint fails; an empty log is OK; --allow-uncovered-tail makes it a warning', async () => {
    const log = await open();
    try {
      const key = generateSigningKey();
      const empty = await verifyLog({ source: log.source, codec, publicKey: key });
      expect(empty, formatReport(empty)).toMatchObject({ ok: true, leaves: 0, findings: [], warnings: [] });
      await writeLog(log.store, { chunks: 0, tail: 5, key });
      const none = await verifyLog({ source: log.source, codec, publicKey: key });
      expect(none.ok).toBe(false);
      expect(none.findings).toMatchObject([{ kind: 'no-checkpoint', index: 0, position: 1n }]);
      expect(none.findings[0]!.message).toContain("no signed checkpoint covers any of the log's 5 event(s), positions 1..5");
      const allowed = await verifyLog({ source: log.source, codec, publicKey: key, allowUncoveredTail: true });
      expect(allowed.ok).toBe(true);
      expect(allowed.warnings).toMatchObject([{ kind: 'no-checkpoint' }]);
    } finally {
      await log.close();
    }
  });

  withLog('a truncated tail: the position counter gives it away; compare names the first missing position', async (log, written) => {
    const saved = await exportNow(log);
    await log.sql('DELETE FROM {events} WHERE global_position > 50');
    const { first } = await run(log, written);
    expect(first.kind).toBe('truncated');
    expect(first.message).toContain('the log ends at position 50 (50 leaves) but the store handed out positions up to 69: 19 event(s) are missing from the tail');
    try {
      const c = await compareExport({ source: log.source, path: saved.path });
      expect(c).toMatchObject({ same: false, differing: 15, first: { kind: 'missing', leafIndex: 50, position: 51n, eventId: written.leaves[50] } });
      expect(c.first!.message).toContain('but the store ends at leaf index 49 / position 50');
    } finally {
      saved.remove();
    }
  });

  withLog('a truncated tail with the counter rewound: a checkpoint kept outside the store catches it', async (log, written) => {
    await log.sql('DELETE FROM {events} WHERE global_position > 50');
    await log.sql('UPDATE {positions} SET last = 50');
    const lastSeen = written.checkpoints.at(-1)!; // tree size 65, fetched earlier from /v1/log/checkpoint
    const { first } = await run(log, written, [lastSeen.text]);
    expect(first).toMatchObject({ kind: 'truncated', index: 43 });
    expect(first.message).toContain('certifies 65 leaves but the log has only 50: the log was truncated or events were deleted after tree size 43');
  });
}
