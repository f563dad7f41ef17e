// The command API's per-call options (cancel, timeout) and the body-less POST of files/delete.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { OctoEverywhereClient, type OctoEverywhereError } from '../../src/client';
import { json, startRecorder, type Recorder } from '../helpers/recorder';
import { SECRETS } from '../helpers/secrets';

describe('client: command API call options', () => {
  let relay: Recorder;
  let client: OctoEverywhereClient;
  /** Responses held back, so a call stays in flight until the test ends it. */
  let held: ServerResponse[];

  beforeEach(async () => {
    held = [];
    relay = await startRecorder((_req, res) => json(res, 200, { Status: 200, Result: {} }, 'text/json'));
    client = new OctoEverywhereClient({ url: `http://app-abc.localhost:${relay.port}`, authBearerToken: SECRETS.authBearerToken });
  });
  afterEach(async () => {
    await client.close();
    await relay.close();
  });

  it('cancels a typed command through its signal (OE_ABORTED)', async () => {
    relay.respond((_req, res) => held.push(res));
    const controller = new AbortController();
    const calls = [
      client.commands.pause({ smartPause: true }, { signal: controller.signal }),
      client.commands.setTemp({ bedC: 60 }, { signal: controller.signal }),
      client.commands.status({ signal: controller.signal }),
      client.commands.deleteFile('gcode/a.gcode', { signal: controller.signal }),
    ];
    while (relay.requests.length < calls.length) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    for (const call of calls) await assert.rejects(call, (e: OctoEverywhereError) => e.code === 'OE_ABORTED');
  });

  it('applies a per-call timeout (OE_TIMEOUT)', async () => {
    relay.respond((_req, res) => held.push(res));
    await assert.rejects(client.commands.home({ timeoutMs: 50 }), (e: OctoEverywhereError) => e.code === 'OE_TIMEOUT');
  });

  it('deletes a file with a body-less POST, so the plugin reads the path from the query string', async () => {
    await client.commands.deleteFile('gcode/parts/bracket.gcode');
    const [req] = relay.requests;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/octoeverywhere-command-api/files/delete?path=gcode%2Fparts%2Fbracket.gcode');
    assert.equal(req.body.length, 0);
  });
});
