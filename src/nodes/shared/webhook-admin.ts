// The notification webhook node's admin routes: its token for the editor (write permission only,
// never cached), the event table for the checkboxes, and "Send test" of a deployed node.
import { EVENT_NAMES, isStrongWebhookToken } from '../../client';
import { ADMIN_ROUTES } from './adapter';
import { asOctoEverywhereError, stops } from './failure';
import type { NodeAPI } from './types';
import type { ServiceWebhook } from './webhook-service';

const TYPE = 'octoeverywhere-notification-webhook';

interface WebhookCredentials {
  token?: string;
}

/** `services`: the deployed App Connection mode nodes by id (the node adds and removes itself). */
export function registerWebhookRoutes(RED: NodeAPI, services: ReadonlyMap<string, ServiceWebhook>): void {
  const t = (key: string): string => RED._(key);
  // The token, for the editor to show the webhook URL: only to users who may change the node, never cached.
  // Only a webhook node's: another package's node may keep a credential called `token` too.
  RED.httpAdmin.get(`${ADMIN_ROUTES}/notification-webhook/:id/token`, RED.auth.needsPermission(`${TYPE}.write`), (req, res) => {
    res.set('Cache-Control', 'no-store');
    const id = String(req.params.id);
    const creds = isWebhookNode(RED, id) ? (RED.nodes.getCredentials(id) as WebhookCredentials | undefined) : undefined;
    if (!isStrongWebhookToken(creds?.token)) return void res.status(404).json({ code: 'OE_NOT_DEPLOYED', message: t('errors.no-token') });
    res.json({ token: creds.token });
  });

  // The editor's event checkboxes come from the one event table.
  RED.httpAdmin.get(`${ADMIN_ROUTES}/notification-webhook/events`, RED.auth.needsPermission(`${TYPE}.read`), (_req, res) => {
    res.json(Object.entries(EVENT_NAMES).map(([type, name]) => ({ type: Number(type), name })));
  });

  // Send test: asks the service to call the deployed node's registered URL and reports the status it got.
  RED.httpAdmin.post(`${ADMIN_ROUTES}/notification-webhook/:id/test`, RED.auth.needsPermission(`${TYPE}.write`), (req, res) => {
    const service = services.get(String(req.params.id));
    if (!service) return void res.status(404).json({ code: 'OE_NOT_DEPLOYED', message: t('errors.not-deployed') });
    service.test().then(
      ({ statusCode }) => res.json({ statusCode: statusCode ?? null, ok: statusCode !== undefined && statusCode >= 200 && statusCode < 300 }),
      (err: unknown) => {
        const e = asOctoEverywhereError(err);
        // What cannot work as it is (the code table's refused or reconnect) is 400; passing trouble is the far side's (502).
        res.status(stops(e) ? 400 : 502).json({ code: e.code, message: e.message });
      },
    );
  });
}

/** Whether `id` is a notification webhook node of the deployed flows. */
function isWebhookNode(RED: NodeAPI, id: string): boolean {
  let found = false;
  RED.nodes.eachNode((n) => {
    if (n.id === id && n.type === TYPE) found = true;
  });
  return found;
}
