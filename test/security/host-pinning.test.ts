// Issue 10, item 4: the printer-request node can never be steered off the App Connection's host. Every
// trick in msg.path / the node's path / msg.headers is either refused with a clear code before
// anything is sent, or stays on the App Connection host; a recording server on another port proves
// that nothing ever reached it.
import assert from 'node:assert/strict';
import { helper } from '../helpers/nodes';
import { startRecorder, type Recorder } from '../helpers/recorder';
import { secretsIn } from '../helpers/secrets';
import { credentialsOf } from '../helpers/simulator';
import { startSimulator, type Simulator } from '../../src/simulator';
import { assertNothingLostOrLeaked, type Harness, loadFlow } from '../nodes/printer-request-harness';
import { figure } from '../reliability/rig';

const TYPE = 'octoeverywhere-printer-request';

describe('security: printer-request stays on the App Connection host', function () {
  this.timeout(30_000);
  let sim: Simulator;
  let other: Recorder;
  const harnesses: Harness[] = [];

  before(async () => {
    sim = await startSimulator({ printers: [{ kind: 'octoprint', name: 'Prusa' }] });
    other = await startRecorder();
  });
  after(async () => {
    await other.close();
    await sim.close();
  });
  afterEach(async () => {
    assertNothingLostOrLeaked(harnesses);
    await helper.unload();
  });

  const hostileTargets = (): string[] => {
    const o = `127.0.0.1:${other.port}`;
    return [
      `http://${o}/api/version`,
      `https://${o}/api/version`,
      `HTTP://${o}/`,
      `//${o}/api/version`,
      `///${o}/api/version`,
      `/\\${o}/`,
      `\\\\${o}\\`,
      `/..//${o}/`,
      `/../../${o}/`,
      `/api/../../${o}`,
      `/%2e%2e/%2e%2e/${o}/`,
      `/%2E%2E%2F%2E%2E%2F${o}`,
      `/%252e%252e/${o}`,
      `/%2f%2f${o}/`,
      `/api/%2e/version`,
      `/.%2e/x`,
      `/%c0%ae%c0%ae/x`,
      `/\u2024\u2024/${o}`,
      `/\uff0e\uff0e/${o}`,
      `/api/version\r\nHost: ${o}`,
      `/api/version\nX: 1`,
      `/api/version%0d%0aHost:%20${o}`,
      `/api/version\u0000`,
      `@${o}/`,
      `/@${o}/`,
      `:@${o}`,
      `?x=http://${o}/`,
      `#http://${o}/`,
      `${o}/api`,
      `javascript:alert(1)`,
      `file:///etc/passwd`,
      ` http://${o}/`,
      `/api/version#//${o}`,
    ];
  };

  it('msg.path: absolute URLs, //host, .. (plain, percent-, double-encoded, unicode dots), CRLF — refused or kept on the host; the other server sees nothing', async () => {
    const keys = sim.createAppConnection(0);
    const h = await loadFlow({ type: TYPE, sim, credentials: credentialsOf(keys), node: { method: 'use', path: '', ret: 'txt' } });
    harnesses.push(h);
    const origin = new URL(keys.url).origin;
    let refused = 0;
    let stayed = 0;
    for (const path of hostileTargets()) {
      for (const method of ['GET', 'POST']) {
        const { msg, error } = await h.send({ method, path, payload: { x: 1 } });
        if (error) {
          refused += 1;
          assert.match(String(error.code), /^OE_INVALID_PATH$/, `${JSON.stringify(path)}: ${error.code} ${error.message}`);
          assert.ok(!error.message.includes(String(other.port)), 'the error does not repeat the target');
        } else {
          stayed += 1;
          assert.equal(new URL(String(msg.responseUrl)).origin, origin, `${JSON.stringify(path)} left the host: ${String(msg.responseUrl)}`);
        }
      }
    }
    assert.equal(other.requests.length, 0, 'nothing reached the other server');
    assert.ok(refused > stayed, 'most tricks are refused outright');
    figure('security/host-pinning msg.path', { cases: hostileTargets().length * 2, refused, stayedOnHost: stayed, reachedOther: other.requests.length });
  });

  it("the node's own path setting gets the same checks", async () => {
    const keys = sim.createAppConnection(0);
    for (const path of [`http://127.0.0.1:${other.port}/`, `//127.0.0.1:${other.port}/`, '/%2e%2e/x']) {
      const h = await loadFlow({ type: TYPE, sim, credentials: credentialsOf(keys), node: { method: 'GET', path } });
      harnesses.push(h);
      const { error } = await h.send({ payload: '' });
      assert.equal(error?.code, 'OE_INVALID_PATH', path);
      assertNothingLostOrLeaked(harnesses);
      await helper.unload();
    }
    assert.equal(other.requests.length, 0);
  });

  it('msg.headers: CRLF and control characters refused; Host/Authorization/… cannot be replaced; prototype keys are inert', async () => {
    const keys = sim.createAppConnection(0, { octoPrintApiKeyAppName: 'Node-RED' });
    const h = await loadFlow({ type: TYPE, sim, credentials: credentialsOf(keys), node: { method: 'GET', path: '/api/version', ret: 'obj' } });
    harnesses.push(h);
    const o = `127.0.0.1:${other.port}`;
    const refusedHeaders: Array<Record<string, unknown>> = [
      { 'X-A': `1\r\nHost: ${o}` },
      { 'X-A': 'a\nb' },
      { 'X-A': '\u0000' },
      { 'Bad Name': 'x' },
      { 'X-A\r\nHost': o },
      { 'X-A': { nested: 1 } },
      { 'X-A': ['a', 'b'] },
      // An own `__proto__` key (as JSON.parse makes it) is just a header name with a non-string value.
      JSON.parse('{"__proto__":{"polluted":"yes"}}') as Record<string, unknown>,
    ];
    for (const headers of refusedHeaders) {
      const { error } = await h.send({ headers });
      assert.equal(error?.code, 'OE_INVALID_HEADER', JSON.stringify(headers));
    }
    for (const headers of ['not an object', ['X-A', '1'], Buffer.from('Host: x')]) {
      const { error } = await h.send({ headers });
      assert.equal(error?.code, 'OE_INVALID_HEADER', JSON.stringify(headers));
    }
    // Reserved headers are dropped: the request still goes to the App Connection, authenticated as configured.
    const steering = JSON.parse(`{"Host":"${o}","Authorization":"Bearer stolen","X-Forwarded-Host":"${o}","constructor":"x","toString":"y"}`) as Record<
      string,
      unknown
    >;
    const { msg, error } = await h.send({ headers: steering });
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(msg.statusCode, 200, "the relay accepted the connection's own credentials");
    assert.equal(new URL(String(msg.responseUrl)).origin, new URL(keys.url).origin);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(other.requests.length, 0, 'nothing reached the other server');
    assert.deepEqual(secretsIn(JSON.stringify(msg)), []);
    figure('security/host-pinning msg.headers', { cases: refusedHeaders.length + 4, reachedOther: other.requests.length });
  });
});
