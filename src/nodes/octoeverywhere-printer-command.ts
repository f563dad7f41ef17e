// Node: one printer command (pause, resume, set a temperature, start a print …) through the
// OctoEverywhere plugin's command API (docs/octoeverywhere.md §7), chosen in the editor or by msg.action. Arguments
// are checked by the client before anything is sent; the editor offers only what the printer's
// `Features` allow, asked through an admin route. The actions are in shared/printer-actions.ts.
import { toInt } from '../client/values';
import { ADMIN_ROUTES, deployedRoute, onInput, useConnection } from './shared/adapter';
import { ACTIONS, actionOf, actionsFor, argumentsFor, inWords, payloadArguments, type Result } from './shared/printer-actions';
import type { Translate } from './shared/settings';
import { status } from './shared/status';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from './shared/types';
import { migrate } from './shared/migrations';

const TYPE = 'octoeverywhere-printer-command';
/** Editor look-ups must not hang the dialog for the full request timeout. */
const FEATURES_TIMEOUT_MS = 10_000;

interface PrinterCommandDef extends NodeDef, Record<string, unknown> {
  connection?: string;
  action?: string;
}

type CommandMessage = NodeMessageInFlow & { action?: unknown };

export = function register(RED: NodeAPI): void {
  const t: Translate = (key, vars) => RED._(key, vars);

  function PrinterCommand(this: Node, def: PrinterCommandDef): void {
    RED.nodes.createNode(this, def);
    def = migrate(TYPE, def); // saved configs in the current shape (shared/migrations.ts)
    const node = this;
    const editorAction = typeof def.action === 'string' && def.action !== '' ? def.action : 'status';
    const connection = useConnection(RED, node, def.connection);

    onInput<CommandMessage>(RED, node, connection, async (msg, send, { client, signal }) => {
      const name = actionOf(msg.action, editorAction, t);
      const action = ACTIONS[name];
      // Catch nodes see which action failed, and the output says which one ran.
      msg.action = name;
      // The editor's fields belong to the editor's action; another action from msg.action takes its arguments from msg.payload only.
      const args = argumentsFor(action, name === editorAction ? def : undefined, payloadArguments(name, action, msg.payload, t));
      node.status(status.busy(RED._('status.sending', { action: name })));
      let result: Result;
      try {
        result = await action.run(client.commands, args, { signal });
      } catch (err) {
        throw inWords(err, name, action, t);
      }
      msg.payload = result;
      node.status(status.working(RED._('status.ok', { action: name })));
      send(msg);
    });
  }

  RED.nodes.registerType(TYPE, PrinterCommand as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  // The editor asks which actions the deployed printer supports. Never a secret: features and action names only.
  // Write permission: answering spends the owner's connection (a request through the relay), which a
  // read-only editor user must not be able to trigger.
  RED.httpAdmin.get(
    `${ADMIN_ROUTES}/features/:connectionId`,
    RED.auth.needsPermission(`${TYPE}.write`),
    deployedRoute(RED, async ({ client }, signal) => {
      const answer = await client.commands.status({ signal, timeoutMs: FEATURES_TIMEOUT_MS });
      const features = toInt(answer.Features) ?? 0;
      return { features, actions: actionsFor(features) };
    }),
  );
};
