/**
 * The one conformance suite every EventStore adapter passes. An adapter's spec file adds one line:
 *   testEventStore('pglite', pgliteHarness)
 * The harness gives each test fresh, isolated storage; open() may be called again after close() and
 * must then reopen the same data (a restart).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES, type EventStore, type EventToAppend, type RecordedEvent, type ScanAllOptions, type ScannedEvent } from '../src/index.ts';
import {
  bytesEqual,
  collect,
  expectSporbarError,
  expectStrictlyIncreasing,
  ids,
  makeEvent,
  makeEvents,
  snapshot,
  waitFor,
} from './support/helpers.ts';

export interface StoreHarness {
  /** Opens a store over this harness's storage; after close(), opening again reopens the same data. */
  open(): Promise<EventStore>;
  /** Removes the storage. */
  dispose(): Promise<void>;
}

export interface ConformanceOptions {
  /** A reason to skip the whole suite (printed), or undefined to run it. */
  readonly skip?: string;
  /** The concurrent-writers test: 8 × 10,000 by default. */
  readonly writers?: number;
  readonly eventsPerWriter?: number;
}

/** Every event a scan hands over, its data copied (it may be valid during the callback only). */
async function scanned(store: EventStore, options?: ScanAllOptions): Promise<ScannedEvent[]> {
  const out: ScannedEvent[] = [];
  await store.scanAll((e) => void out.push({ ...e, data: new Uint8Array(e.data) }), options);
  return out;
}

/** What readAll says of an event, in the shape of a scanned one. */
const asScanned = (e: RecordedEvent): ScannedEvent => ({
  position: e.globalPosition,
  eventId: e.eventId,
  data: e.data,
  type: e.type,
  streamName: e.streamName,
  recordedAt: e.recordedAt,
  metadata: e.metadata,
});

const bytesOf = (events: readonly { data: Uint8Array }[]) => events.map((e) => Buffer.from(e.data).toString('base64'));

export function testEventStore(name: string, factory: () => Promise<StoreHarness>, options: ConformanceOptions = {}): void {
  if (options.skip) console.warn(`[event-store conformance] skipping ${name}: ${options.skip}`);

  describe.skipIf(options.skip !== undefined)(`EventStore conformance: ${name}`, () => {
    let harness: StoreHarness;
    let store: EventStore;
    const open: EventStore[] = [];
    const reopen = async () => {
      const s = await harness.open();
      open.push(s);
      return s;
    };

    beforeEach(async () => {
      harness = await factory();
      store = await reopen();
    });
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
      await harness.dispose();
    });

    describe('append and expected revision', () => {
      it('appends to a new stream with no_stream: revisions from 0, positions increasing', async () => {
        const events = makeEvents(3);
        const result = await store.append('order-1', events, { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(2n);
        expect(result.appended).toEqual(ids(events));
        expect(result.duplicates).toEqual([]);
        const read = await collect(store.readStream('order-1'));
        expect(read.map((e) => e.streamRevision)).toEqual([0n, 1n, 2n]);
        expect(read.map((e) => e.eventId)).toEqual(ids(events));
        expectStrictlyIncreasing(read);
        expect(result.lastPosition).toBe(read[2]!.globalPosition);
        expect(await store.headPosition()).toBe(result.lastPosition);
        expect(store.adapter).toBe(name);
      });

      it('round-trips type, data bytes, metadata, stream name and recordedAt', async () => {
        const e = makeEvent('ConsentWithdrawn', 333);
        const before = Date.now();
        await store.append('person-7', [e]);
        const [r] = await collect(store.readStream('person-7'));
        expect(r!.type).toBe('ConsentWithdrawn');
        expect(r!.data).toBeInstanceOf(Uint8Array);
        expect(r!.data.byteLength).toBe(333);
        expect(bytesEqual(r!.data, e.data)).toBe(true);
        expect(r!.metadata).toEqual({ fingerprint: 'f00dfeed', classification: 'internal' });
        expect(r!.streamName).toBe('person-7');
        expect(r!.recordedAt).toBeInstanceOf(Date);
        expect(Math.abs(r!.recordedAt.getTime() - before)).toBeLessThan(60_000);
      });

      it('keeps each event its own metadata, in order, whatever characters the values hold (append and appendMany)', async () => {
        const awkward = ['say "hi"', 'back\\slash \\"', '{,}', 'NULL', '', 'æøå ✓ 𝄞', 'line\nbreak\ttab', "it's"];
        const events = awkward.map((v, i) => ({ ...makeEvent(), metadata: { note: v, n: String(i) } }));
        await store.append('meta-1', events.slice(0, 4));
        await store.appendMany([
          { streamName: 'meta-2', events: events.slice(4, 6) },
          { streamName: 'meta-1', events: events.slice(6) },
        ]);
        const read = [...(await collect(store.readStream('meta-1'))), ...(await collect(store.readStream('meta-2')))];
        expect(read.map((r) => r.metadata)).toEqual([0, 1, 2, 3, 6, 7, 4, 5].map((i) => ({ note: awkward[i], n: String(i) })));
      });

      it('no_stream conflicts when the stream exists', async () => {
        await store.append('s', makeEvents(2));
        const err = await expectSporbarError(store.append('s', makeEvents(1), { expectedRevision: 'no_stream' }), 'SPB_ERR_WRONG_EXPECTED_REVISION');
        expect(err.details).toMatchObject({ expected: 'no_stream', actual: '1' });
      });

      it('stream_exists conflicts on a missing stream and succeeds on an existing one', async () => {
        const err = await expectSporbarError(store.append('s', makeEvents(1), { expectedRevision: 'stream_exists' }), 'SPB_ERR_WRONG_EXPECTED_REVISION');
        expect(err.details).toMatchObject({ expected: 'stream_exists', actual: 'no_stream' });
        await store.append('s', makeEvents(1), { expectedRevision: 'no_stream' });
        const ok = await store.append('s', makeEvents(2), { expectedRevision: 'stream_exists' });
        expect(ok.nextExpectedRevision).toBe(2n);
      });

      it('an exact revision succeeds when it matches and conflicts with details when stale or missing', async () => {
        const first = await store.append('s', makeEvents(2), { expectedRevision: 'no_stream' });
        const second = await store.append('s', makeEvents(1), { expectedRevision: first.nextExpectedRevision });
        expect(second.nextExpectedRevision).toBe(2n);
        const stale = await expectSporbarError(store.append('s', makeEvents(1), { expectedRevision: 1n }), 'SPB_ERR_WRONG_EXPECTED_REVISION');
        expect(stale.details).toMatchObject({ streamName: 's', expected: '1', actual: '2' });
        const ahead = await expectSporbarError(store.append('s', makeEvents(1), { expectedRevision: 7n }), 'SPB_ERR_WRONG_EXPECTED_REVISION');
        expect(ahead.details).toMatchObject({ expected: '7', actual: '2' });
        const missing = await expectSporbarError(store.append('nope', makeEvents(1), { expectedRevision: 0n }), 'SPB_ERR_WRONG_EXPECTED_REVISION');
        expect(missing.details).toMatchObject({ expected: '0', actual: 'no_stream' });
      });

      it('any never conflicts (new and existing stream)', async () => {
        expect((await store.append('s', makeEvents(1), { expectedRevision: 'any' })).nextExpectedRevision).toBe(0n);
        expect((await store.append('s', makeEvents(2))).nextExpectedRevision).toBe(2n);
      });

      it('a conflicting batch writes nothing', async () => {
        await store.append('s', makeEvents(2));
        const before = await snapshot(store, 's');
        await expectSporbarError(store.append('s', makeEvents(5), { expectedRevision: 0n }), 'SPB_ERR_WRONG_EXPECTED_REVISION');
        expect(await snapshot(store, 's')).toEqual(before);
        expect(await collect(store.readAll())).toHaveLength(2);
      });

      it('only one of two racing writers with the same expected revision wins', async () => {
        await store.append('s', makeEvents(1), { expectedRevision: 'no_stream' });
        const results = await Promise.allSettled([0, 1, 2, 3].map(() => store.append('s', makeEvents(2), { expectedRevision: 0n })));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
        const read = await collect(store.readStream('s'));
        expect(read.map((e) => e.streamRevision)).toEqual([0n, 1n, 2n]);
      });
    });

    describe('appendMany', () => {
      it('appends to several streams in one call, in request order, duplicates reported per stream', async () => {
        const a = makeEvents(2);
        const b = makeEvents(3);
        await store.append('many-b', [b[0]!]);
        const results = await store.appendMany([
          { streamName: 'many-a', events: a, options: { expectedRevision: 'no_stream' } },
          { streamName: 'many-b', events: b },
        ]);
        expect(results.map((r) => [r.appended.length, r.duplicates.length])).toEqual([
          [2, 0],
          [2, 1],
        ]);
        const all = await collect(store.readAll());
        expect(ids(all.filter((e) => e.streamName.startsWith('many-')))).toEqual([b[0]!.eventId, ...ids(a), b[1]!.eventId, b[2]!.eventId]);
        expectStrictlyIncreasing(all);
        expect(await store.appendMany([])).toEqual([]);
      });

      it('without expected revisions: per-stream revisions, duplicates from the store and across requests', async () => {
        const old = makeEvent();
        await store.append('bulk-a', [old, makeEvent()]);
        const shared = makeEvent();
        const a = [makeEvent(), old, shared];
        const b = [makeEvent(), shared];
        const a2 = [makeEvent()];
        const results = await store.appendMany([
          { streamName: 'bulk-a', events: a },
          { streamName: 'bulk-b', events: b },
          { streamName: 'bulk-a', events: a2 },
        ]);
        expect(results.map((r) => [r.appended, r.duplicates])).toEqual([
          [[a[0]!.eventId, shared.eventId], [old.eventId]],
          [[b[0]!.eventId], [shared.eventId]],
          [[a2[0]!.eventId], []],
        ]);
        expect(results[0]!.nextExpectedRevision).toBe(4n);
        expect(results[2]!.nextExpectedRevision).toBe(4n);
        const streamA = await collect(store.readStream('bulk-a'));
        expect(streamA.map((e) => [e.streamRevision, e.eventId])).toEqual([
          [0n, old.eventId],
          [1n, streamA[1]!.eventId],
          [2n, a[0]!.eventId],
          [3n, shared.eventId],
          [4n, a2[0]!.eventId],
        ]);
        expect((await collect(store.readStream('bulk-b'))).map((e) => e.eventId)).toEqual([b[0]!.eventId]);
        expectStrictlyIncreasing(await collect(store.readAll()));
        // Retrying the whole call stores nothing more.
        const again = await store.appendMany([
          { streamName: 'bulk-a', events: a },
          { streamName: 'bulk-b', events: b },
        ]);
        expect(again.flatMap((r) => r.appended)).toEqual([]);
      });

      if (name !== 'eventstoredb') {
        it('is all or nothing: a conflict in one stream stores nothing from the call', async () => {
          await store.append('many-c', makeEvents(1));
          const before = await store.headPosition();
          await expectSporbarError(
            store.appendMany([
              { streamName: 'many-d', events: makeEvents(2) },
              { streamName: 'many-c', events: makeEvents(1), options: { expectedRevision: 'no_stream' } },
            ]),
            'SPB_ERR_WRONG_EXPECTED_REVISION',
          );
          expect(await store.headPosition()).toBe(before);
          expect(await collect(store.readStream('many-d'))).toEqual([]);
        });
      }
    });

    describe('idempotency by eventId', () => {
      it('stores the same event once and reports it as duplicate', async () => {
        const [a, b] = makeEvents(2);
        const first = await store.append('s', [a!]);
        const again = await store.append('s', [a!]);
        expect(again.appended).toEqual([]);
        expect(again.duplicates).toEqual([a!.eventId]);
        expect(again.lastPosition).toBe(first.lastPosition);
        expect(again.nextExpectedRevision).toBe(0n);
        const mixed = await store.append('s', [a!, b!]);
        expect(mixed.appended).toEqual([b!.eventId]);
        expect(mixed.duplicates).toEqual([a!.eventId]);
        expect(mixed.nextExpectedRevision).toBe(1n);
        expect(ids(await collect(store.readAll()))).toEqual([a!.eventId, b!.eventId]);
      });

      it('is unique across the whole store, within a batch, and a retried exact-revision append succeeds', async () => {
        const [a, b] = makeEvents(2);
        await store.append('s1', [a!], { expectedRevision: 'no_stream' });
        const other = await store.append('s2', [a!, b!, b!]);
        expect(other.appended).toEqual([b!.eventId]);
        expect([...other.duplicates].sort()).toEqual([a!.eventId, b!.eventId].sort());
        // the ack of the first attempt was lost; the retry carries the old expected revision
        const retried = await store.append('s1', [a!], { expectedRevision: 'no_stream' });
        expect(retried.duplicates).toEqual([a!.eventId]);
        expect(retried.appended).toEqual([]);
        expect(await collect(store.readAll())).toHaveLength(2);
        expect((await collect(store.readStream('s2'))).map((e) => e.eventId)).toEqual([b!.eventId]);
      });

      it('holds across a restart (a new store over the same storage)', async () => {
        const events = makeEvents(3);
        await store.append('s', events);
        await store.close();
        const reopened = await reopen();
        const again = await reopened.append('s', [...events, ...makeEvents(1)]);
        expect(again.duplicates).toEqual(ids(events));
        expect(again.appended).toHaveLength(1);
        expect(again.nextExpectedRevision).toBe(3n);
        const all = await collect(reopened.readAll());
        expect(all).toHaveLength(4);
        expect(new Set(ids(all)).size).toBe(4);
      });

      it('treats upper-case eventIds as the same uuid', async () => {
        const e = makeEvent();
        await store.append('s', [e]);
        const again = await store.append('s', [{ ...e, eventId: e.eventId.toUpperCase() }]);
        expect(again.appended).toEqual([]);
        expect(again.duplicates).toEqual([e.eventId]);
      });
    });

    describe('reading', () => {
      it('reads a stream forwards and backwards with fromRevision and maxCount', async () => {
        const events = makeEvents(10);
        await store.append('s', events.slice(0, 4));
        await store.append('other', makeEvents(3));
        await store.append('s', events.slice(4));
        const rev = (xs: RecordedEvent[]) => xs.map((e) => Number(e.streamRevision));
        expect(rev(await collect(store.readStream('s')))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(ids(await collect(store.readStream('s')))).toEqual(ids(events));
        expect(rev(await collect(store.readStream('s', { fromRevision: 6n })))).toEqual([6, 7, 8, 9]);
        expect(rev(await collect(store.readStream('s', { fromRevision: 2n, maxCount: 3 })))).toEqual([2, 3, 4]);
        expect(rev(await collect(store.readStream('s', { direction: 'backwards' })))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        expect(rev(await collect(store.readStream('s', { direction: 'backwards', maxCount: 2 })))).toEqual([9, 8]);
        expect(rev(await collect(store.readStream('s', { direction: 'backwards', fromRevision: 3n })))).toEqual([3, 2, 1, 0]);
        expect(rev(await collect(store.readStream('s', { direction: 'backwards', fromRevision: 5n, maxCount: 2 })))).toEqual([5, 4]);
        expect(await collect(store.readStream('s', { fromRevision: 10n }))).toEqual([]);
        expect(await collect(store.readStream('never-written'))).toEqual([]);
      });

      it('pages through a stream longer than one page in both directions', async () => {
        for (let i = 0; i < 3; i++) await store.append('long', makeEvents(500));
        const fwd = await collect(store.readStream('long'));
        expect(fwd.map((e) => e.streamRevision)).toEqual(Array.from({ length: 1500 }, (_, i) => BigInt(i)));
        const back = await collect(store.readStream('long', { direction: 'backwards', maxCount: 1200 }));
        expect(back).toHaveLength(1200);
        expect(back[0]!.streamRevision).toBe(1499n);
        expect(back.at(-1)!.streamRevision).toBe(300n);
      });

      it('reads the global log in batches, from a position, with maxCount', async () => {
        const written: string[] = [];
        for (let i = 0; i < 10; i++) {
          const batch = makeEvents(5);
          written.push(...ids(batch));
          await store.append(`s-${i % 3}`, batch);
        }
        const all = await collect(store.readAll({ batchSize: 7 }));
        expect(ids(all)).toEqual(written);
        expectStrictlyIncreasing(all);
        expect(await store.headPosition()).toBe(all.at(-1)!.globalPosition);
        const tail = await collect(store.readAll({ after: all[19]!.globalPosition, batchSize: 4 }));
        expect(ids(tail)).toEqual(written.slice(20));
        const some = await collect(store.readAll({ after: all[4]!.globalPosition, maxCount: 6, batchSize: 4 }));
        expect(ids(some)).toEqual(written.slice(5, 11));
        expect(await collect(store.readAll({ after: all.at(-1)!.globalPosition }))).toEqual([]);
      });

      it('an empty store has head 0 and an empty log', async () => {
        expect(await store.headPosition()).toBe(0n);
        expect(await collect(store.readAll())).toEqual([]);
      });
    });

    describe('scanning the global log (scanAll)', () => {
      it('hands over every event in global order with every column, as readAll reads it', async () => {
        const awkward = ['say "hi"', 'back\\slash \\"', '{,}', 'æøå ✓ 𝄞', 'line\nbreak\ttab', ''];
        // Sizes around and far over a network read, so events span the chunks a reader receives.
        const sizes = [1, 300, 70_000, 300, MAX_EVENT_BYTES, 5, 200_000];
        const events = sizes.map((size, i): EventToAppend => ({
          ...makeEvent(i % 2 ? 'ConsentGiven' : 'DisclosureRecorded', size),
          metadata: i === 3 ? {} : { note: awkward[i % awkward.length]!, n: String(i) },
        }));
        await store.append('scan-a', events.slice(0, 3));
        await store.appendMany([
          { streamName: 'scan-b', events: events.slice(3, 5) },
          { streamName: 'scan-a', events: events.slice(5) },
        ]);
        await store.append('scan-c', makeEvents(20));
        const read = await collect(store.readAll());
        const scan = await scanned(store);
        expect(scan).toEqual(read.map(asScanned));
        expect(bytesOf(scan.slice(0, 3))).toEqual(bytesOf(events.slice(0, 3)));
        expect(scan[3]!.metadata).toEqual({});
        expect(scan[0]!.metadata).toEqual({ note: 'say "hi"', n: '0' });
        expect(scan.map((e) => e.streamName).slice(0, 7)).toEqual(['scan-a', 'scan-a', 'scan-a', 'scan-b', 'scan-b', 'scan-a', 'scan-a']);
        for (const e of scan) expect(e.data).toBeInstanceOf(Uint8Array);
        expect(scan.map((e) => e.position)).toEqual(read.map((e) => e.globalPosition));
      });

      it('after, upTo and maxCount bound the scan', async () => {
        for (let i = 0; i < 5; i++) await store.append(`s-${i % 2}`, makeEvents(6));
        const all = await collect(store.readAll());
        const at = (i: number) => all[i]!.globalPosition;
        const scanIds = async (options: ScanAllOptions) => ids(await scanned(store, options));
        expect(await scanIds({ after: at(9) })).toEqual(ids(all.slice(10)));
        expect(await scanIds({ upTo: at(9) })).toEqual(ids(all.slice(0, 10)));
        expect(await scanIds({ after: at(4), upTo: at(14) })).toEqual(ids(all.slice(5, 15)));
        expect(await scanIds({ after: at(4), upTo: at(14), maxCount: 3 })).toEqual(ids(all.slice(5, 8)));
        expect(await scanIds({ after: at(4), upTo: at(6), maxCount: 30 })).toEqual(ids(all.slice(5, 7)));
        expect(await scanIds({ maxCount: 1 })).toEqual(ids(all.slice(0, 1)));
        expect(await scanIds({ upTo: at(29) + 1000n })).toEqual(ids(all));
        expect(await scanIds({ maxCount: 0 })).toEqual([]);
        expect(await scanIds({ after: at(29) })).toEqual([]);
        expect(await scanIds({ after: at(10), upTo: at(10) })).toEqual([]);
        expect(await scanIds({ after: at(10), upTo: at(5) })).toEqual([]);
      });

      it("a 'leaf' scan hands over position, eventId and data; skipped columns are empty", async () => {
        await store.append('leaf-a', makeEvents(3, 'ConsentGiven'));
        await store.append('leaf-b', [makeEvent('DisclosureRecorded', 90_000), ...makeEvents(4)]);
        const full = await scanned(store);
        const leaf = await scanned(store, { columns: 'leaf' });
        expect(leaf.map((e) => [e.position, e.eventId])).toEqual(full.map((e) => [e.position, e.eventId]));
        expect(bytesOf(leaf)).toEqual(bytesOf(full));
        leaf.forEach((e, i) => {
          const f = full[i]!;
          expect([f.type, '']).toContain(e.type);
          expect([f.streamName, '']).toContain(e.streamName);
          expect([f.recordedAt.getTime(), 0]).toContain(e.recordedAt.getTime());
          expect([f.metadata, {}]).toContainEqual(e.metadata);
        });
        expect(ids(await scanned(store, { columns: 'leaf', after: full[1]!.position, maxCount: 2 }))).toEqual(ids(full.slice(2, 4)));
      });

      it('a promise returned by the callback pauses reading until it settles', async () => {
        const total = 3000;
        for (let i = 0; i < 3; i++) await store.append(`bp-${i}`, makeEvents(total / 3));
        const expected = ids(await collect(store.readAll({ batchSize: 1000 })));
        const seen: string[] = [];
        let paused = false;
        let calledWhilePaused = 0;
        let pauses = 0;
        await store.scanAll((e) => {
          if (paused) calledWhilePaused++;
          seen.push(e.eventId);
          if (seen.length % 700 !== 1) return;
          paused = true;
          pauses++;
          return new Promise<void>((resolve) =>
            setTimeout(() => {
              paused = false;
              resolve();
            }, 25),
          );
        });
        expect(calledWhilePaused).toBe(0);
        expect(pauses).toBe(5);
        expect(seen).toEqual(expected);
      });

      it('a throw or a rejection in the callback ends the scan with that error; the store keeps working', async () => {
        await store.append('s', makeEvents(2000));
        let calls = 0;
        await expect(
          store.scanAll(() => {
            if (++calls === 10) throw new Error('sync stop');
          }),
        ).rejects.toThrow('sync stop');
        expect(calls).toBe(10);
        calls = 0;
        await expect(store.scanAll(async () => void (++calls === 1500 && (await Promise.reject(new Error('async stop')))))).rejects.toThrow('async stop');
        expect(calls).toBe(1500);
        await store.append('s', makeEvents(1));
        expect(await scanned(store, { columns: 'leaf' })).toHaveLength(2001);
      });

      it('an empty store: nothing is handed over', async () => {
        let calls = 0;
        await store.scanAll(() => void calls++);
        await store.scanAll(() => void calls++, { columns: 'leaf', after: 10n, upTo: 20n });
        expect(calls).toBe(0);
      });

      it('reports its positions: gap-free with a position counter (SQL adapters), or with gaps and no counter (EventStoreDB)', async () => {
        if (name === 'eventstoredb') {
          expect(store.contiguousPositions).toBe(false);
          expect(store.lastAssignedPosition).toBeUndefined();
          return;
        }
        expect(store.contiguousPositions).toBe(true);
        expect(await store.lastAssignedPosition!()).toBe(0n);
        const events = makeEvents(7);
        await store.append('a', events.slice(0, 4));
        await store.appendMany([
          { streamName: 'b', events: events.slice(4) },
          { streamName: 'a', events: makeEvents(2) },
        ]);
        expect(await store.lastAssignedPosition!()).toBe(9n);
        await store.append('a', events.slice(0, 2)); // duplicates only: no position handed out
        await expectSporbarError(store.append('a', makeEvents(1), { expectedRevision: 'no_stream' }), 'SPB_ERR_WRONG_EXPECTED_REVISION');
        expect(await store.lastAssignedPosition!()).toBe(9n);
        expect((await scanned(store, { columns: 'leaf' })).map((e) => e.position)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
        await store.close();
        expect(await (await reopen()).lastAssignedPosition!()).toBe(9n);
      });
    });

    describe('subscriptions', () => {
      it('catches up, goes live, stops, and resumes from its checkpoint without gaps or repeats', async () => {
        const first = makeEvents(25);
        await store.append('a', first.slice(0, 15));
        await store.append('b', first.slice(15));
        const seen: RecordedEvent[] = [];
        const sub = store.subscribe((e) => void seen.push(e), { batchSize: 10 });
        await waitFor(() => seen.length === 25, 10_000, 'catch-up');
        const live = makeEvents(10);
        await store.append('a', live.slice(0, 4));
        await store.append('c', live.slice(4));
        await waitFor(() => seen.length === 35, 10_000, 'live delivery');
        await sub.stop();
        await expect(sub.done).resolves.toBeUndefined();
        expect(ids(seen)).toEqual([...ids(first), ...ids(live)]);
        expectStrictlyIncreasing(seen);

        const checkpoint = seen.at(-1)!.globalPosition;
        const later = makeEvents(5);
        await store.append('d', later);
        await new Promise((r) => setTimeout(r, 50));
        expect(seen).toHaveLength(35); // stopped: nothing more delivered
        const resumed: RecordedEvent[] = [];
        const sub2 = store.subscribe((e) => void resumed.push(e), { after: checkpoint });
        await waitFor(() => resumed.length >= 5, 10_000, 'resume');
        const more = makeEvents(2);
        await store.append('d', more);
        await waitFor(() => resumed.length >= 7, 10_000, 'live after resume');
        await sub2.stop();
        expect(ids(resumed)).toEqual([...ids(later), ...ids(more)]);
      });

      it('a handler error ends the subscription and rejects done', async () => {
        await store.append('s', makeEvents(3));
        let calls = 0;
        const sub = store.subscribe(() => {
          calls++;
          if (calls === 2) throw new Error('projection failed');
        });
        await expect(sub.done).rejects.toThrow('projection failed');
        expect(calls).toBe(2);
        await sub.stop();
      });

      it('close() stops running subscriptions', async () => {
        const sub = store.subscribe(() => undefined);
        await store.close();
        await expect(sub.done).resolves.toBeUndefined();
      });
    });

    it(`${options.writers ?? 8} concurrent writers × ${options.eventsPerWriter ?? 10_000} events: a concurrent subscriber sees every event once, in commit order`, async () => {
      const writers = options.writers ?? 8;
      const perWriter = options.eventsPerWriter ?? 10_000;
      const total = writers * perWriter;
      const seen: RecordedEvent[] = [];
      const sub = store.subscribe((e) => void seen.push(e), { batchSize: 1000 });
      const sizes = [1, 7, 50, 200, 25, 100, 3, 400];
      const writer = async (w: number) => {
        const revisions = [-1n, -1n, -1n];
        let written = 0;
        for (let i = 0; written < perWriter; i++) {
          const n = Math.min(sizes[(i + w) % sizes.length]!, perWriter - written);
          const k = i % 3;
          const r = await store.append(`w${w}-${k}`, makeEvents(n), {
            expectedRevision: revisions[k] === -1n ? 'no_stream' : revisions[k]!,
          });
          revisions[k] = r.nextExpectedRevision;
          written += n;
        }
      };
      await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
      await waitFor(() => seen.length >= total, 120_000, `subscriber sees ${total}`);
      await sub.stop();
      expect(seen).toHaveLength(total);
      expect(new Set(ids(seen)).size).toBe(total);
      expectStrictlyIncreasing(seen);
      // commit order = global order: within each stream revisions arrive 0, 1, 2 ... without holes
      const next = new Map<string, bigint>();
      for (const e of seen) {
        expect(e.streamRevision).toBe(next.get(e.streamName) ?? 0n);
        next.set(e.streamName, e.streamRevision + 1n);
      }
      const log = await collect(store.readAll({ batchSize: 5000 }));
      expect(ids(log)).toEqual(ids(seen));
      expect(await store.headPosition()).toBe(seen.at(-1)!.globalPosition);
    }, 240_000);

    describe('stream metadata', () => {
      it('defaults to empty, round-trips, is replaced, and works before the first event', async () => {
        expect(await store.getStreamMetadata('s')).toEqual({});
        const m = { maxAgeSeconds: 86_400, truncateBefore: 2n, custom: { purpose: 'audit', owner: 'dpo' } };
        await store.setStreamMetadata('s', m);
        expect(await store.getStreamMetadata('s')).toEqual(m);
        await store.setStreamMetadata('s', { maxAgeSeconds: 60 });
        expect(await store.getStreamMetadata('s')).toEqual({ maxAgeSeconds: 60 });
        await store.append('s', makeEvents(1), { expectedRevision: 'no_stream' });
        expect(await store.getStreamMetadata('s')).toEqual({ maxAgeSeconds: 60 });
      });

      it('readStream respects truncateBefore in both directions; the global log keeps the events', async () => {
        await store.append('s', makeEvents(6));
        await store.setStreamMetadata('s', { truncateBefore: 4n });
        expect((await collect(store.readStream('s'))).map((e) => e.streamRevision)).toEqual([4n, 5n]);
        expect((await collect(store.readStream('s', { fromRevision: 1n }))).map((e) => e.streamRevision)).toEqual([4n, 5n]);
        expect((await collect(store.readStream('s', { direction: 'backwards' }))).map((e) => e.streamRevision)).toEqual([5n, 4n]);
        const next = await store.append('s', makeEvents(1), { expectedRevision: 5n });
        expect(next.nextExpectedRevision).toBe(6n);
      });

      it('refuses invalid metadata', async () => {
        await expectSporbarError(store.setStreamMetadata('s', { maxAgeSeconds: -1 }), 'SPB_ERR_INVALID_EVENT');
        await expectSporbarError(store.setStreamMetadata('s', { truncateBefore: -1n }), 'SPB_ERR_INVALID_EVENT');
        expect(await store.getStreamMetadata('s')).toEqual({});
      });
    });

    describe('bad input', () => {
      it('refuses an oversized event and writes nothing of its batch', async () => {
        await store.append('s', makeEvents(1));
        const before = await snapshot(store, 's');
        const big = { ...makeEvent(), data: new Uint8Array(MAX_EVENT_BYTES + 1) };
        const err = await expectSporbarError(store.append('s', [makeEvent(), big]), 'SPB_ERR_EVENT_TOO_LARGE');
        expect(err.details).toMatchObject({ index: 1, bytes: MAX_EVENT_BYTES + 1, limit: MAX_EVENT_BYTES });
        expect(await snapshot(store, 's')).toEqual(before);
        const atLimit = { ...makeEvent(), data: new Uint8Array(MAX_EVENT_BYTES).fill(7) };
        await store.append('s', [atLimit]);
        const [last] = await collect(store.readStream('s', { direction: 'backwards', maxCount: 1 }));
        expect(last!.data.byteLength).toBe(MAX_EVENT_BYTES);
      });

      it.each(['', '-leading-dash', 'has space', 'x'.repeat(201), '$all', 'ünïcode', 'a/b'])('refuses stream name %j', async (bad) => {
        await expectSporbarError(store.append(bad, makeEvents(1)), 'SPB_ERR_INVALID_STREAM_NAME');
        await expectSporbarError(collect(store.readStream(bad)), 'SPB_ERR_INVALID_STREAM_NAME');
        await expectSporbarError(store.getStreamMetadata(bad), 'SPB_ERR_INVALID_STREAM_NAME');
        await expectSporbarError(store.setStreamMetadata(bad, {}), 'SPB_ERR_INVALID_STREAM_NAME');
        expect(await store.headPosition()).toBe(0n);
      });

      it('refuses missing or invalid eventIds, empty types, empty batches and bad expected revisions', async () => {
        await store.append('s', makeEvents(1));
        const before = await snapshot(store, 's');
        const cases: unknown[][] = [
          [makeEvent(), { ...makeEvent(), eventId: undefined }],
          [{ ...makeEvent(), eventId: 'not-a-uuid' }],
          [{ ...makeEvent(), eventId: '' }],
          [makeEvent(), { ...makeEvent(), type: '' }],
          [{ ...makeEvent(), data: 'not bytes' }],
          [{ ...makeEvent(), metadata: { n: 1 } }],
          [],
        ];
        for (const batch of cases) {
          await expectSporbarError(store.append('s', batch as never), 'SPB_ERR_INVALID_EVENT');
        }
        await expectSporbarError(store.append('s', makeEvents(1), { expectedRevision: -2n }), 'SPB_ERR_INVALID_EVENT');
        expect(await snapshot(store, 's')).toEqual(before);
      });

      it('refuses every use after close(), and close() twice is fine', async () => {
        await store.append('s', makeEvents(1));
        await store.close();
        await store.close();
        await expectSporbarError(store.append('s', makeEvents(1)), 'SPB_ERR_STORE_CLOSED');
        await expectSporbarError(collect(store.readStream('s')), 'SPB_ERR_STORE_CLOSED');
        await expectSporbarError(collect(store.readAll()), 'SPB_ERR_STORE_CLOSED');
        await expectSporbarError(store.scanAll(() => undefined), 'SPB_ERR_STORE_CLOSED');
        if (store.lastAssignedPosition) await expectSporbarError(store.lastAssignedPosition(), 'SPB_ERR_STORE_CLOSED');
        await expectSporbarError(store.headPosition(), 'SPB_ERR_STORE_CLOSED');
        await expectSporbarError(store.getStreamMetadata('s'), 'SPB_ERR_STORE_CLOSED');
        await expectSporbarError(store.setStreamMetadata('s', {}), 'SPB_ERR_STORE_CLOSED');
        await expectSporbarError(() => store.subscribe(() => undefined), 'SPB_ERR_STORE_CLOSED');
      });
    });
  });
}
