import assert from 'node:assert/strict';
import { GADGET_DISABLED_INTERVAL_MS, GADGET_MIN_INTERVAL_MS, GadgetPollRules, isGadgetWarning, type GadgetStatus } from '../../src/client';

const gadget = (state: number, rating = 8, statusColor: GadgetStatus['statusColor'] = 'g'): GadgetStatus => ({
  state,
  stateName: 'active',
  status: '',
  statusColor,
  rating,
});
const printing = (printId: string | null = 'p1') => ({ printing: true, printId });
const idle = { printing: false, printId: null };

describe('client: Gadget polling rules', () => {
  it('never asks while idle', () => {
    const rules = new GadgetPollRules();
    for (let t = 0; t < 3_600_000; t += 10_000) assert.equal(rules.due(t, idle), false);
  });

  it('asks at most every 10 s while printing', () => {
    const rules = new GadgetPollRules();
    assert.equal(rules.due(0, printing()), true);
    rules.attempted(0);
    rules.answered(gadget(3), printing());
    assert.equal(rules.due(GADGET_MIN_INTERVAL_MS - 1, printing()), false);
    assert.equal(rules.due(GADGET_MIN_INTERVAL_MS, printing()), true);
  });

  it('counts a failed call too (no hammering a failing service)', () => {
    const rules = new GadgetPollRules();
    rules.attempted(0);
    assert.equal(rules.due(5_000, printing()), false);
  });

  it('asks only every 10 min while Gadget is Disabled', () => {
    const rules = new GadgetPollRules();
    rules.attempted(0);
    rules.answered(gadget(0), printing());
    assert.equal(rules.due(GADGET_DISABLED_INTERVAL_MS - 1, printing()), false);
    assert.equal(rules.due(GADGET_DISABLED_INTERVAL_MS, printing()), true);
  });

  it('after DisabledForCurrentPrint waits for the next print (a new print id, or a gap between prints)', () => {
    const rules = new GadgetPollRules();
    rules.attempted(0);
    rules.answered(gadget(1), printing('p1'));
    assert.equal(rules.due(3_600_000, printing('p1')), false, 'not again during that print');
    assert.equal(rules.due(3_600_000, printing('p2')), true, 'a new print id is a new print');

    const noIds = new GadgetPollRules();
    noIds.attempted(0);
    noIds.answered(gadget(1), printing(null));
    assert.equal(noIds.due(3_600_000, printing(null)), false);
    assert.equal(noIds.due(3_600_000, idle), false);
    assert.equal(noIds.due(3_700_000, printing(null)), true, 'the print ended and another began');
  });

  it('calls a low rating, a yellow or red colour, or a failure pause a warning', () => {
    assert.equal(isGadgetWarning(null), false);
    assert.equal(isGadgetWarning(gadget(3, 8, 'g')), false);
    assert.equal(isGadgetWarning(gadget(3, 4, 'g')), true);
    assert.equal(isGadgetWarning(gadget(3, 6, 'y')), true);
    assert.equal(isGadgetWarning(gadget(3, 6, 'r')), true);
    assert.equal(isGadgetWarning(gadget(4, 1, 'r')), true);
    assert.equal(isGadgetWarning(gadget(2, 1, 'r')), false, 'idle Gadget warns of nothing');
  });
});
