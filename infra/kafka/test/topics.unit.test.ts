import { describe, expect, it } from 'vitest';
import { parseTopicSpec } from '../src/topics.ts';

describe('the topics command', () => {
  it('reads <name>[:<partitions>]', () => {
    expect(parseTopicSpec('sporbar.disclosures:6')).toEqual({ topic: 'sporbar.disclosures', partitions: 6 });
    expect(parseTopicSpec('sporbar.disclosures.dlq')).toEqual({ topic: 'sporbar.disclosures.dlq', partitions: 1 });
  });
  it('refuses anything else, naming it', () => {
    for (const bad of ['', 'a:0', 'a b', 'a:x', 'a:12345', 'x/y']) expect(() => parseTopicSpec(bad)).toThrow(/<name>\[:<partitions>\]/);
  });
});
