// Loaded before every test file (see .mocharc.js): points the test helper at the Node-RED under test
// (OE_NODE_RED_PATH for the Node-RED 5 run) and checks, once the suite ends, that nothing the run
// printed contains a credential.
import helper from 'node-red-node-test-helper';
import { installSecretWatch, assertNoWatchedSecretPrinted } from './helpers/secrets';

helper.init(require.resolve(process.env.OE_NODE_RED_PATH || 'node-red'));
installSecretWatch();

export const mochaHooks = {
  afterAll(): void {
    assertNoWatchedSecretPrinted();
  },
};
