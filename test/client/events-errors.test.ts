import assert from 'node:assert/strict';
import { COMMAND_CODES, EVENT_NAMES, SERVICE_CODES, commandError, eventFromWebhook, eventName, serviceError } from '../../src/client';
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
      eventType: 6, event: 'print-progress', source: 'webhook', printerId: samples.webhook.progress.PrinterId, printerName: 'Voron 2.4', printId: 'p-20261124-1',
      fileName: 'benchy.gcode', durationSec: 1800, progress: 30, timeRemainingSec: 4200, zOffsetMm: 12, currentLayer: 60, totalLayers: 200,
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

  it('keeps the plugin\'s error text to one short line', () => {
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
