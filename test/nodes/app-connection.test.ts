import assert from 'node:assert/strict';
import { helper, nodeModule } from '../helpers/nodes';
import { SECRETS, secretsIn } from '../helpers/secrets';
import type { AppConnectionNode } from '../../src/nodes/shared/types';

const configModule = nodeModule('octoeverywhere-app-connection');

describe('node: octoeverywhere-app-connection', () => {
  afterEach(async () => {
    await helper.unload();
  });

  const flow = (extra: Record<string, unknown> = {}) => [
    { id: 'c1', type: 'octoeverywhere-app-connection', name: 'Voron', printerName: 'Voron 2.4', appId: 'nodered', ...extra },
  ];

  it('builds one shared client from the credential store', async () => {
    await helper.load(configModule, flow(), {
      c1: {
        url: 'https://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com',
        authBearerToken: SECRETS.authBearerToken,
        appApiToken: SECRETS.appApiToken,
      },
    });
    const node = helper.getNode('c1') as AppConnectionNode;
    const client = node.client();
    assert.equal(client, node.client(), 'one client per connection');
    assert.equal(client.connection.baseUrl, 'https://app-fwduvgajpbcz1e7mwm0ivscpo4ebtg6o.octoeverywhere.com');
    assert.equal(client.connection.appId, 'nodered');
    assert.equal(node.hasAppApi(), true);
    assert.equal(node.printerName, 'Voron 2.4');
  });

  it('holds a Shared Connection: relay works, no App APIs', async () => {
    await helper.load(configModule, flow(), {
      c1: {
        url: 'https://shared-abc123.octoeverywhere.com',
        authBasicHttpUser: SECRETS.authBasicHttpUser,
        authBasicHttpPassword: SECRETS.authBasicHttpPassword,
      },
    });
    const node = helper.getNode('c1') as AppConnectionNode;
    assert.equal(node.hasAppApi(), false);
    await assert.rejects(node.client().app.info(), (e: { code: string }) => e.code === 'OE_APP_CONNECTION_REQUIRED');
  });

  for (const [what, creds, code] of [
    ['no URL', { authBearerToken: SECRETS.authBearerToken }, 'OE_MISSING_URL'],
    ['no credentials', { url: 'https://app-abc.octoeverywhere.com', appApiToken: SECRETS.appApiToken }, 'OE_MISSING_CREDENTIALS'],
    ['an http URL off this machine', { url: 'http://app-abc.octoeverywhere.com', authBearerToken: SECRETS.authBearerToken }, 'OE_INSECURE_URL'],
  ] as const) {
    it(`reports ${what} as ${code} to the nodes that use it, with a warning that holds no secret`, async () => {
      await helper.load(configModule, flow(), { c1: creds });
      const node = helper.getNode('c1') as AppConnectionNode;
      assert.throws(
        () => node.client(),
        (e: { code: string }) => e.code === code,
      );
      const entries = (helper.log().args as Array<[{ level: number; id: string; msg: unknown }]>).map((a) => a[0]);
      const warning = entries.find((e) => e.id === 'c1' && e.level === 30);
      assert.ok(warning, 'the config node logs a warning');
      assert.deepEqual(secretsIn(JSON.stringify(entries)), []);
    });
  }

  it('closes its client when the flow stops', async () => {
    await helper.load(configModule, flow(), { c1: { url: 'https://app-abc.octoeverywhere.com', authBearerToken: SECRETS.authBearerToken } });
    const client = (helper.getNode('c1') as AppConnectionNode).client();
    await helper.unload();
    assert.equal(client.connection.closed, true);
  });
});
