// Config node `octoeverywhere-gadget-api`: a developer API key for OctoEverywhere's Gadget AI Failure
// Detection API (in the credential store), the confidence levels, and the monthly call budget. It
// owns the one client and the budget every failure-detection node using the key shares.
import { FailureDetectionClient, FREE_CALLS_PER_MONTH, OctoEverywhereError } from '../client';
import { CallBudget, isBudgetRecord } from './shared/call-budget';
import { clockFor } from './shared/clock';
import { persistentRecord } from './shared/context-store';
import { asOctoEverywhereError } from './shared/failure';
import { GadgetApiAccount } from './shared/gadget-api-account';
import { migrate } from './shared/migrations';
import { wholeNumber } from './shared/settings';
import type { GadgetApiNode, NodeAPI, NodeDef } from './shared/types';

const TYPE = 'octoeverywhere-gadget-api';
const BUDGET_KEY = 'octoeverywhere-gadget-calls';

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

    const limit = wholeNumber(def.monthlyBudget, FREE_CALLS_PER_MONTH, 0);
    const store = persistentRecord(RED, node, BUDGET_KEY, isBudgetRecord);
    const budget = new CallBudget(limit, clock, store, (err) => node.warn(RED._('warnings.count-not-saved', { code: asOctoEverywhereError(err).code })));
    if (!store) node.log(RED._('log.count-in-memory'));
    try {
      const client = new FailureDetectionClient({
        apiKey: node.credentials?.apiKey ?? '',
        serviceUrl: def.serviceUrl || undefined,
        warningConfidence: wholeNumber(def.warningConfidence, 3, 1),
        pauseConfidence: wholeNumber(def.pauseConfidence, 3, 1),
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
