// The simulated Failure Detection API's own refusals, as a client other than ours would meet them.
import assert from 'node:assert/strict';
import http from 'node:http';
import { localhostLookup, startSimulator, type Simulator } from '../../../src/simulator';

function post(url: string, headers: Record<string, string>, body: Buffer | string): Promise<{ status: number; json: { ErrorType?: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, lookup: localhostLookup as never }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function multipart(parts: Array<{ name: string; filename?: string; data: Buffer }>): { type: string; body: Buffer } {
  const b = 'sim-boundary-42';
  const chunks = parts.flatMap((p) => [
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\n\r\n`),
    p.data,
    Buffer.from('\r\n'),
  ]);
  return { type: `multipart/form-data; boundary=${b}`, body: Buffer.concat([...chunks, Buffer.from(`--${b}--\r\n`)]) };
}

describe('simulator: Gadget Failure Detection API', () => {
  let sim: Simulator;
  let key: string;
  before(async () => {
    sim = await startSimulator({ printers: [] });
    key = sim.gadgetApi.addKey();
  });
  after(() => sim.close());

  it('refuses bad create arguments, an unparsable body and an unknown key with their ErrorTypes', async () => {
    const create = `${sim.gadgetApi.url}/api/gadget/v1/createcontext`;
    const json = { 'content-type': 'application/json', 'x-api-key': key };
    assert.deepEqual(
      [(await post(create, json, '{"WarningConfidenceLevel": 6}')).json.ErrorType, (await post(create, json, '{nope')).json.ErrorType],
      ['OE_BAD_ARGS', 'OE_ARGS_PARSE_FAILED'],
    );
    const wrong = await post(create, { ...json, 'x-api-key': 'wrong' }, '{}');
    assert.deepEqual([wrong.status, wrong.json.ErrorType], [401, 'OE_INVALID_API_KEY']);
    const ok = await post(create, json, JSON.stringify({ WarningConfidenceLevel: null, PauseConfidenceLevel: null }));
    assert.equal(ok.status, 200, 'null levels take the defaults, as the SDK sends them');
  });

  it('wants exactly one file part, and a known context of the same key', async () => {
    const ctx = (await post(`${sim.gadgetApi.url}/api/gadget/v1/createcontext`, { 'x-api-key': key }, '{}')).json as { FallbackProcessRequestUrl?: string };
    const url = String(ctx.FallbackProcessRequestUrl);
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 2, 0xff, 0xd9]);
    const two = multipart([
      { name: 'a', filename: 'x', data: jpeg },
      { name: 'b', filename: 'y', data: jpeg },
    ]);
    assert.equal((await post(url, { 'content-type': two.type, 'x-api-key': key }, two.body)).json.ErrorType, 'OE_BAD_ARGS');
    const one = multipart([{ name: 'attachment', filename: 'snapshot', data: jpeg }]);
    const other = sim.gadgetApi.addKey();
    assert.deepEqual((await post(url, { 'content-type': one.type, 'x-api-key': other }, one.body)).status, 404, "another key's context is not found");
    const scored = await post(url, { 'content-type': one.type, 'x-api-key': key }, one.body);
    assert.equal(scored.status, 200);
    assert.deepEqual(Object.keys(scored.json).sort(), ['NextProcessIntervalSec', 'PauseSuggested', 'PrintQuality', 'Score', 'WarningSuggested']);
  });
});
