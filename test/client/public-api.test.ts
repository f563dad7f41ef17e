// Issue 15.5: the client's public API (the package's `main`, src/client/index.ts) is what a program
// using the library needs; internals stay internal, imported from their modules by the package's own
// code. And every source file name follows one convention (kebab-case).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as client from '../../src/client';

const ROOT = path.resolve(__dirname, '..', '..');

describe('client: the public API', () => {
  it("exports what the README's 'Using the client without Node-RED' and the error tables need", () => {
    for (const name of [
      'OctoEverywhereClient',
      'AppConnection',
      'AppApi',
      'CommandApi',
      'LiveConnection',
      'PrinterMqttClient',
      'RawPrinterSocket',
      'OctoEverywhereError',
      'ServiceError',
      'CommandError',
      'NetworkError',
      'InvalidArgumentError',
      'SERVICE_CODES',
      'COMMAND_CODES',
      'describeCode',
      'buildPortalUrl',
      'parseCompletion',
      'deriveEvents',
      'parseJobStatus',
      'EVENT_NAMES',
      'transfer',
      'mjpegFrames',
      'MjpegParser',
      'livePlatformOf',
      'parseSerialNumber',
      'FailureDetectionClient',
      'realClock',
    ]) {
      assert.ok(name in client, `${name} is public`);
    }
  });

  it('keeps the internals internal: checks, codecs, value readers, back-off, deadlines, route choice, platform sessions', () => {
    for (const name of [
      'checkPrinterPath',
      'checkHeaders',
      'PrinterTarget',
      'encodeBody',
      'decodeBody',
      'withContentType',
      'jsonText',
      'backoffDelay',
      'reconnectDelayMs',
      'DEFAULT_BACKOFF',
      'Deadline',
      'RouteChooser',
      'networkError',
      'TransportError',
      'toInt',
      'isObject',
      'openPrinterSocket',
      'upgradeError',
      'moonrakerStatus',
      'octoPrintStatus',
      'bambuStatus',
      'cc2Status',
      'MOONRAKER_OBJECTS',
      'samePrint',
      'subscribeRefused',
      'topicProblem',
      'filterProblem',
      'checkSocketPath',
      'LOCAL_RETRY_AFTER_MS',
    ]) {
      assert.ok(!(name in client), `${name} is internal`);
    }
  });

  it('the package main is the built client index', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string; types: string };
    assert.equal(pkg.main, 'dist/client/index.js');
    assert.equal(pkg.types, 'dist/client/index.d.ts');
  });

  it('every source file name is kebab-case', () => {
    const odd: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(entry.name)) odd.push(path.relative(ROOT, full));
          walk(full);
        } else if (!/^[a-z0-9]+(-[a-z0-9]+)*\.ts$/.test(entry.name)) odd.push(path.relative(ROOT, full));
      }
    };
    walk(path.join(ROOT, 'src'));
    assert.deepEqual(odd, []);
  });
});
