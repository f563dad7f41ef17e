// Flow pieces shared by the benchmarks: our config node for a simulator App Connection, and the
// core http request node aimed at the same relay URL with the same Bearer credential.
import type { CompletionKeys } from '../../src/simulator';
import type { FlowNode } from './nodered';
import { relayTarget } from './sim';

export const CONFIG_TYPE = 'octoeverywhere-app-connection';

/** Our config node for the App Connection plus its credentials, as the portal's completion fills them in. */
export function appConnection(id: string, keys: CompletionKeys, serviceUrl: string): { node: FlowNode; credentials: Record<string, unknown> } {
  return {
    node: { id, type: CONFIG_TYPE, name: 'Bench printer', authType: 'bearer', serviceUrl, appId: 'devtest' },
    credentials: {
      url: keys.url,
      authBasicHttpUser: keys.authbasichttpuser,
      authBasicHttpPassword: keys.authbasichttppassword,
      authBearerToken: keys.authBearerToken,
      appApiToken: keys.appApiToken,
    },
  };
}

/**
 * The core http request node doing the same GET through the relay: its Bearer auth option (the token
 * goes in credentials.password), the App Connection host as a header (Node cannot resolve *.localhost;
 * a real App Connection host resolves through DNS, which costs the core node nothing more on keep-alive).
 */
export function coreRequest(
  id: string,
  keys: CompletionKeys,
  port: number,
  path: string,
  opts: { persist: boolean; ret: 'obj' | 'txt' | 'bin' },
): { node: FlowNode; credentials: Record<string, unknown> } {
  const { url, host } = relayTarget(keys, port, path);
  return {
    node: {
      id,
      type: 'http request',
      method: 'GET',
      ret: opts.ret,
      paytoqs: 'ignore',
      url,
      persist: opts.persist,
      authType: 'bearer',
      senderr: false,
      headers: [{ keyType: 'other', keyValue: 'Host', valueType: 'other', valueValue: host }],
    },
    credentials: { password: keys.authBearerToken },
  };
}
