import assert from 'node:assert/strict';
import {
  COMMAND_CODES,
  EVENT_NAMES,
  FAILURE_DETECTION_CODES,
  FailureDetectionError,
  NetworkError,
  OctoEverywhereError,
  SERVICE_CODES,
  eventFromWebhook,
  eventName,
  toOctoEverywhereError,
} from '../../src/client';
import { commandError, detectionCodeError, failureDetectionError, serviceError } from '../../src/client/errors';
import samples from '../fixtures/production-samples.json';

describe('client: events and error tables', () => {
  it('names all sixteen documented event types and passes unknown ones through', () => {
    assert.equal(Object.keys(EVENT_NAMES).length, 16);
    assert.equal(eventName(7), 'gadget-warning');
    assert.equal(eventName(15), 'bed-cooldown-complete');
    assert.equal(eventName(42), 'event-42');
  });

  it('maps a webhook body to our names and never copies the SecretKey', () => {
    const e = eventFromWebhook(samples.webhook.progress);
    assert.deepEqual(e, {
      eventType: 6,
      event: 'print-progress',
      source: 'webhook',
      printerId: samples.webhook.progress.PrinterId,
      printerName: 'Voron 2.4',
      printId: 'p-20261124-1',
      fileName: 'benchy.gcode',
      durationSec: 1800,
      progress: 30,
      timeRemainingSec: 4200,
      zOffsetMm: 12,
      currentLayer: 60,
      totalLayers: 200,
    });
    const secret = eventFromWebhook(samples.webhook.user_webhook_with_secret);
    assert.equal(secret?.event, 'test');
    assert.ok(!JSON.stringify(secret).includes('my-lan-secret'));
    assert.equal(eventFromWebhook(samples.webhook.error)?.platformErrorCode, '0300-0100-0001');
    assert.equal(eventFromWebhook({ EventType: '99' })?.event, 'event-99');
    for (const junk of [null, 'x', [], {}, { EventType: 'abc' }]) assert.equal(eventFromWebhook(junk), undefined);
  });

  it('has a meaning and kind for every documented code', () => {
    for (let c = 600; c <= 613; c++) assert.ok(SERVICE_CODES[c], String(c));
    for (const c of [750, 751, 752, 753, 754, 785, 786, 787, 788, 789]) assert.ok(COMMAND_CODES[c], String(c));
    assert.equal(serviceError(603, 'x').kind, 'permanent');
    assert.equal(serviceError(601, 'x').kind, 'temporary');
    assert.equal(commandError(786, 'pause').kind, 'permanent');
  });

  it('says in the one table what each code means for behaviour: offline, reconnect, supporter, cool-down, retry, refused', () => {
    const behaviour = (c: number): string => (c >= 700 ? commandError(c, 'x') : serviceError(c, 'x')).behaviour;
    assert.equal(behaviour(601), 'offline');
    for (const c of [603, 604, 606]) assert.equal(behaviour(c), 'reconnect', String(c));
    assert.equal(behaviour(605), 'supporter');
    assert.equal(behaviour(609), 'cool-down');
    for (const c of [600, 602, 610, 611, 612, 613, 750, 752, 785, 787]) assert.equal(behaviour(c), 'retry', String(c));
    for (const c of [607, 608, 751, 754, 786, 788, 789]) assert.equal(behaviour(c), 'refused', String(c));
    // A command envelope carrying a 6xx has the 6xx's behaviour; a code nobody knows follows its kind.
    assert.equal(commandError(601, 'status').behaviour, 'offline');
    assert.equal(serviceError(599, 'x').behaviour, 'retry');
    assert.equal(serviceError(418, 'x').behaviour, 'refused');
  });

  it('speaks the same vocabulary for the Gadget Failure Detection codes: a dead key is stop, the budget a cool-down', () => {
    const behaviourOf = (code: string): string => FAILURE_DETECTION_CODES[code].behaviour;
    for (const code of ['OE_INVALID_API_KEY', 'OE_API_KEY_DISABLED', 'OE_API_KEY_BLOCKED_PAYMENT_FAILED', 'OE_GADGET_NO_API_KEY'])
      assert.equal(behaviourOf(code), 'stop', code);
    assert.equal(behaviourOf('OE_GADGET_BUDGET_REACHED'), 'cool-down');
    for (const code of ['OE_CONTEXT_RATE_LIMITED', 'OE_BACKEND_THROTTLED', 'OE_INTERNAL_ERROR', 'OE_GADGET_UNTRUSTED_URL'])
      assert.equal(behaviourOf(code), 'retry', code);
    for (const code of ['OE_BAD_ARGS', 'OE_ARGS_PARSE_FAILED', 'OE_IMAGE_DECODE_FAILED', 'OE_GADGET_NOT_JPEG'])
      assert.equal(behaviourOf(code), 'refused', code);
    // The error carries its code's behaviour, whichever way it was made; unknown codes follow their kind.
    assert.equal(detectionCodeError('OE_GADGET_NO_API_KEY').behaviour, 'stop');
    assert.equal(new FailureDetectionError('OE_GADGET_BUDGET_REACHED', 'x', { kind: 'temporary' }).behaviour, 'cool-down');
    assert.equal(failureDetectionError(401, 'OE_INVALID_API_KEY', 'x').behaviour, 'stop');
    assert.equal(failureDetectionError(503, undefined, 'x').behaviour, 'retry');
    assert.equal(failureDetectionError(404, 'OE_SOMETHING_NEW', 'x').behaviour, 'refused');
    assert.equal(new FailureDetectionError('OE_ABORTED', 'x', { kind: 'temporary', behaviour: 'refused' }).behaviour, 'refused');
    assert.equal(detectionCodeError('OE_GADGET_NOT_JPEG').toJSON().behaviour, 'refused');
  });

  it('wraps anything thrown that is not ours as OE_INTERNAL, keeping only its type name', () => {
    const ours = new NetworkError('OE_TIMEOUT', 'late', { kind: 'temporary' });
    assert.equal(toOctoEverywhereError(ours), ours);
    const wrapped = toOctoEverywhereError(new TypeError('secret-token-in-text'));
    assert.ok(wrapped instanceof OctoEverywhereError);
    assert.deepEqual([wrapped.code, wrapped.kind, wrapped.behaviour], ['OE_INTERNAL', 'temporary', 'retry']);
    assert.equal(wrapped.message, 'An unexpected TypeError happened in the OctoEverywhere client; please report it.');
    assert.equal(
      toOctoEverywhereError('text', 'the OctoEverywhere node').message,
      'An unexpected string happened in the OctoEverywhere node; please report it.',
    );
    assert.ok(!JSON.stringify(wrapped).includes('secret'));
  });

  it("keeps the plugin's error text to one short line", () => {
    const e = commandError(752, 'home', `bad\r\nthing ${'x'.repeat(500)}`);
    assert.ok(!/[\r\n]/.test(e.message));
    assert.ok(e.message.length < 600);
  });

  it('serialises without a stack or anything but its own fields', () => {
    const e = serviceError(606, 'The printer request');
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(e))).sort(), ['code', 'kind', 'message', 'name', 'status']);
    assert.equal(String(e).startsWith('ServiceError: The printer request failed'), true);
  });
});
