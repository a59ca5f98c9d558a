import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configRefusal as refusal, refusedVariables as variables } from '../../common/test/support/config-refusal.ts';
import { embeddedConfigFromEnv } from '../src/config.ts';


describe('the embedded configuration', () => {
  it('needs nothing', () => {
    expect(embeddedConfigFromEnv({})).toEqual({
      logLevel: 'info',
      host: '127.0.0.1',
      port: 3000,
      dataDir: resolve('data'),
      seedTransactions: 600,
      seedSubjects: 100,
      liveEverySeconds: 5,
      retentionEverySeconds: 60,
    });
  });

  it('several problems: one SPB_ERR_CONFIG naming all of them', () => {
    const err = refusal(() => embeddedConfigFromEnv({ PORT: 'eighty', SPORBAR_SEED_SUBJECTS: '0', SPORBAR_LIVE_TRAFFIC_SECONDS: 'often', SPORBAR_RETENTION_SECONDS: '-5' }));
    expect(variables(err)).toEqual(['PORT', 'SPORBAR_SEED_SUBJECTS', 'SPORBAR_LIVE_TRAFFIC_SECONDS', 'SPORBAR_RETENTION_SECONDS']);
  });
});
