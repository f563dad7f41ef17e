import assert from 'node:assert/strict';
import { applyMigrations as migrate, configVersion, type Migration } from '../../src/nodes/shared/migrations';
import { helper, nodeModule } from '../helpers/nodes';
import type { AppConnectionNode } from '../../src/nodes/shared/types';

// A made-up history for the pattern: version 2 renamed `host` to `url`, version 3 added `retries`.
const STEPS: Migration[] = [
  { to: 3, up: (c) => ({ ...c, retries: 2 }) },
  { to: 2, up: ({ host, ...rest }) => ({ ...rest, url: host }) },
];

describe('node migrations', () => {
  it('treats a config without a version (saved before versions existed) as version 1', () => {
    assert.equal(configVersion({}), 1);
    assert.equal(configVersion({ version: 'x' }), 1);
    assert.equal(configVersion({ version: '2' }), 2);
    assert.deepEqual(migrate({ name: 'a' }, []), { name: 'a', version: 1 });
  });

  it("runs the steps after the config's version, in order, without touching the saved object", () => {
    const saved = { host: 'h', name: 'n' };
    assert.deepEqual(migrate(saved, STEPS), { url: 'h', name: 'n', retries: 2, version: 3 });
    assert.deepEqual(saved, { host: 'h', name: 'n' });
    assert.deepEqual(migrate({ url: 'h', version: 2 }, STEPS), { url: 'h', retries: 2, version: 3 });
    assert.deepEqual(migrate({ url: 'h', retries: 5, version: 3 }, STEPS), { url: 'h', retries: 5, version: 3 });
  });

  it('leaves a config from a newer release as it is, and refuses a gap in the steps', () => {
    assert.deepEqual(migrate({ url: 'h', version: 9 }, STEPS), { url: 'h', version: 9 });
    assert.throws(() => migrate({}, [{ to: 3, up: (c) => c }]), /cannot follow version 1/);
  });

  it('the config node reads an old config (no version) as the current one', async () => {
    try {
      const saved: Record<string, unknown> = { id: 'c1', type: 'octoeverywhere-app-connection', printerName: 'Old', appId: 'nodered' };
      await helper.load(nodeModule('octoeverywhere-app-connection') as Parameters<typeof helper.load>[0], [saved as { id: string; type: string }], {
        c1: { url: 'https://app-abc.octoeverywhere.com', authBearerToken: 'bearer-for-migration-test' },
      });
      const node = helper.getNode('c1') as AppConnectionNode;
      assert.equal(node.printerName, 'Old');
      assert.equal(node.client().connection.appId, 'nodered');
    } finally {
      await helper.unload();
    }
  });
});
