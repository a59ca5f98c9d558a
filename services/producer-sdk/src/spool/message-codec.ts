import { SporbarError } from '@sporbar/common/errors';
import type { OutgoingMessage } from '../transport.ts';

/** An OutgoingMessage as the spool keeps it, with the time the transport accepted it. */
export interface SpooledMessage extends OutgoingMessage {
  /** Milliseconds since the epoch when send() accepted it; becomes the Kafka record timestamp. */
  readonly acceptedAt: number;
}

const VERSION = 1;

/**
 * Binary form of one spooled message (the spool adds length and CRC around it):
 *   u8 version=1 | f64 acceptedAt | u16 keyLen key | u16 headerCount (u16 nameLen name u32 valueLen value)* | value (rest)
 */
export function encodeMessage(m: SpooledMessage): Buffer {
  const key = Buffer.from(m.key, 'utf8');
  const headers = Object.entries(m.headers).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const);
  if (key.length > 0xffff) throw new SporbarError('SPB_ERR_INVALID_MESSAGE', 'message key longer than 65535 bytes');
  if (headers.length > 0xffff) throw new SporbarError('SPB_ERR_INVALID_MESSAGE', 'more than 65535 headers');
  let size = 1 + 8 + 2 + key.length + 2 + m.value.length;
  for (const [k, v] of headers) {
    if (k.length > 0xffff) throw new SporbarError('SPB_ERR_INVALID_MESSAGE', 'header name longer than 65535 bytes');
    size += 2 + k.length + 4 + v.length;
  }
  const out = Buffer.allocUnsafe(size);
  let o = out.writeUInt8(VERSION, 0);
  o = out.writeDoubleBE(m.acceptedAt, o);
  o = out.writeUInt16BE(key.length, o);
  o += key.copy(out, o);
  o = out.writeUInt16BE(headers.length, o);
  for (const [k, v] of headers) {
    o = out.writeUInt16BE(k.length, o);
    o += k.copy(out, o);
    o = out.writeUInt32BE(v.length, o);
    o += v.copy(out, o);
  }
  m.value.copy(out, o);
  return out;
}

export function decodeMessage(buf: Buffer): SpooledMessage {
  const fail = (why: string): never => {
    // Only bytes this codec wrote reach here (the spool checks each record's CRC): a failure is a bug or a damaged disk.
    throw new SporbarError('SPB_ERR_INTERNAL', `spooled message cannot be decoded: ${why}`);
  };
  if (buf.length < 13) fail('too short');
  if (buf.readUInt8(0) !== VERSION) fail(`unknown version ${buf.readUInt8(0)}`);
  const acceptedAt = buf.readDoubleBE(1);
  let o = 9;
  const need = (n: number) => (o + n <= buf.length ? undefined : fail('truncated'));
  need(2);
  const keyLen = buf.readUInt16BE(o);
  o += 2;
  need(keyLen);
  const key = buf.toString('utf8', o, o + keyLen);
  o += keyLen;
  need(2);
  const count = buf.readUInt16BE(o);
  o += 2;
  const headers: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    need(2);
    const nl = buf.readUInt16BE(o);
    o += 2;
    need(nl);
    const name = buf.toString('utf8', o, o + nl);
    o += nl;
    need(4);
    const vl = buf.readUInt32BE(o);
    o += 4;
    need(vl);
    headers[name] = buf.toString('utf8', o, o + vl);
    o += vl;
  }
  return { key, headers, value: Buffer.from(buf.subarray(o)), acceptedAt };
}
