// Config node `octoeverywhere-gadget-api`: a developer API key for OctoEverywhere's Gadget AI Failure
// Detection API (in the credential store), the confidence levels, and the monthly call budget. It
// owns the one client and the budget every failure-detection node using the key shares.
import { DEFAULT_CONFIDENCE, FailureDetectionClient, FREE_CALLS_PER_MONTH, OctoEverywhereError } from '../client';
import { CallBudget, isBudgetRecord } from './shared/call-budget';
import { clockFor } from './shared/clock';
import { persistentRecord } from './shared/context-store';
import { asOctoEverywhereError } from './shared/failure';
import { GadgetApiAccount } from './shared/gadget-api-account';
import { migrate } from './shared/migrations';
import { optionalNumber, type Translate } from './shared/settings';
import type { GadgetApiNode, NodeAPI, NodeDef } from './shared/types';

const TYPE = 'octoeverywhere-gadget-api';
const BUDGET_KEY = 'octoeverywhere-gadget-calls';
/** A sanity bound for the budget field (a billion calls a month is $150,000 or more). */
const MAX_BUDGET = 1_000_000_000;

interface GadgetApiDef extends NodeDef {
  warningConfidence?: number | string;
  pauseConfidence?: number | string;
  monthlyBudget?: number | string;
  /** Advanced: another Failure Detection host (the simulator's); default OctoEverywhere's. */
  serviceUrl?: string;
}

export = function register(RED: NodeAPI): void {
  function GadgetApiConfig(this: GadgetApiNode & Record<string, unknown>, saved: GadgetApiDef): void {
    RED.nodes.createNode(this, saved);
    const def = migrate(TYPE, saved);
    const node = this;
    const clock = clockFor(RED);
    let account: GadgetApiAccount | undefined;
    let configError: OctoEverywhereError | undefined;
    node.name = def.name;

    const t: Translate = (key, vars) => RED._(key, vars);
    // Empty takes the default; anything else out of range stops the node: a budget typed as "1,000"
    // must not become 5,000 paid calls, nor a level of 0 silently 3.
    const field = (value: unknown, label: string, min: number, max: number, fallback: number): number =>
      optionalNumber(value, { what: RED._(`label.${label}`), min, max, integer: true }, t) ?? fallback;
    let limit = FREE_CALLS_PER_MONTH;
    try {
      limit = field(def.monthlyBudget, 'monthlyBudget', 0, MAX_BUDGET, FREE_CALLS_PER_MONTH);
    } catch (err) {
      configError = asOctoEverywhereError(err);
    }
    const store = persistentRecord(RED, node, BUDGET_KEY, isBudgetRecord);
    const budget = new CallBudget(limit, clock, store, (err) => node.warn(RED._('warnings.count-not-saved', { code: asOctoEverywhereError(err).code })));
    if (!store) node.log(RED._('log.count-in-memory'));
    try {
      if (configError) throw configError;
      const client = new FailureDetectionClient({
        apiKey: node.credentials?.apiKey ?? '',
        serviceUrl: def.serviceUrl || undefined,
        warningConfidence: field(def.warningConfidence, 'warningConfidence', 1, 5, DEFAULT_CONFIDENCE),
        pauseConfidence: field(def.pauseConfidence, 'pauseConfidence', 1, 5, DEFAULT_CONFIDENCE),
      });
      account = new GadgetApiAccount(client, budget);
    } catch (err) {
      configError = asOctoEverywhereError(err);
      node.warn(RED._('errors.not-usable', { code: configError.code, message: configError.message }));
    }

    node.gadgetApi = (): GadgetApiAccount => {
      if (configError) throw configError;
      if (!account) throw new OctoEverywhereError('OE_CLOSED', RED._('errors.closed'));
      return account;
    };

    node.register = (user) => account?.register(user);
    node.deregister = (user) => account?.deregister(user);

    node.on('close', (_removed: boolean, done: () => void) => {
      const closing = account?.close() ?? budget.flushed();
      account = undefined;
      // The last count is written before the node is gone (a restart reads it back); close() never rejects.
      void closing.catch(() => undefined).finally(done);
    });
  }

  RED.nodes.registerType(TYPE, GadgetApiConfig as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: { apiKey: { type: 'password' } },
  });
};
