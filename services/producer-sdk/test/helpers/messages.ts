// Test messages with a checkable order: message i belongs to key i % keys and is that key's
// message number floor(i / keys). No vitest import: the child-process fixture uses this too.
import type { OutgoingMessage, Transport } from '../../src/index.ts';

export const KEYS = 64;

export function makeMessage(runId: string, i: number, keys = KEYS): OutgoingMessage {
  const k = `subject-${i % keys}`;
  const body = JSON.stringify({ i, k, s: Math.floor(i / keys) });
  return { key: k, value: Buffer.from(body.padEnd(300, ' ')), headers: { 'sporbar-event-id': `${runId}-${i}`, 'sporbar-event-type': 'DisclosureRecorded' } };
}

/**
 * send() messages from..to-1, one message per call, with at most `concurrency` calls outstanding.
 * Calls happen in index order, so the transport sees them in that order.
 */
export async function sendRange(
  transport: Transport,
  runId: string,
  from: number,
  to: number,
  concurrency: number,
  onAccepted?: (accepted: number) => void,
): Promise<number> {
  let next = from;
  let accepted = 0;
  const worker = async () => {
    while (next < to) {
      const i = next++;
      await transport.send([makeMessage(runId, i)]);
      accepted++;
      onAccepted?.(accepted);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, to - from) }, worker));
  return accepted;
}
