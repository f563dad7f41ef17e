import assert from 'node:assert/strict';
import { findPrinterId } from '../../src/client';
import { startRecorder, type Recorder } from '../helpers/recorder';

const ID = 'A'.repeat(30) + '0123456789'.repeat(3);

describe('client: findPrinterId', () => {
  let server: Recorder;
  afterEach(async () => {
    await server.close();
  });

  for (const suffix of ['', '/']) {
    it(`asks OctoPrint's plugin API at the root of "http://127.0.0.1:port${suffix}" (one slash)`, async () => {
      server = await startRecorder((req, res) => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/api/plugin/octoeverywhere') res.end(JSON.stringify({ PluginVersion: '5.3.1', PrinterId: ID }));
        else res.writeHead(404).end('{}');
      });
      const found = await findPrinterId(`http://127.0.0.1:${server.port}${suffix}`);
      assert.deepEqual(found, { printerId: ID, platform: 'octoprint', pluginVersion: '5.3.1' });
      assert.deepEqual(
        server.requests.map((r) => r.url),
        ['/api/plugin/octoeverywhere'],
      );
    });
  }

  it("falls back to Moonraker's database, keeping a path prefix", async () => {
    server = await startRecorder((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/printer/server/database/item'))
        res.end(JSON.stringify({ result: { namespace: 'octoeverywhere', key: 'public.printerId', value: ID } }));
      else res.writeHead(404).end('{}');
    });
    const found = await findPrinterId(`http://127.0.0.1:${server.port}/printer/`);
    assert.deepEqual(found, { printerId: ID, platform: 'moonraker' });
    assert.deepEqual(
      server.requests.map((r) => r.url),
      ['/printer/api/plugin/octoeverywhere', '/printer/server/database/item?namespace=octoeverywhere&key=public.printerId'],
    );
  });
});
