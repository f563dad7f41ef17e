// Upgrading saved node configs when a node's options change: the one ordered list of steps per node
// type, and the code that applies them. Plain ES5 on purpose, because the same file serves both sides:
//  - the runtime requires it (src/nodes/shared/migrations.ts types it), so a node reads its saved
//    config in the current shape;
//  - the editor loads it with <script src="resources/node-red-contrib-octoeverywhere/migrations.js">
//    (Node-RED serves a package's resources/ folder there), so an old flow opened in the editor is
//    brought to the current shape too and the next Deploy saves it.
// Adding a step: append { to: N, up: function (config) { ... } } to the type's list (`up` returns a
// new object and never mutates its input), set `version: { value: N }` in nodes/<type>.html, and add
// a test to test/nodes/migrations.test.ts. Credentials are never part of a config here.
(function (root, factory) {
  'use strict';
  if (typeof module === 'object' && module.exports) {
    module.exports = factory();
  } else if (!root.OctoEverywhereMigrations) {
    // Two .html files carry the <script> tag (each config node's, so that disabling one node set
    // leaves the other working): install once.
    root.OctoEverywhereMigrations = factory();
    installEditor(root.RED, root.OctoEverywhereMigrations);
  }

  /**
   * Editor side. A node enters the editor through RED.nodes.add, which emits 'nodes:add' for nodes and
   * config nodes alike, whether the flows are loaded from the runtime or imported. An old one is
   * migrated there, once (afterwards its version is current), and marked changed. Loading the flows
   * ends with RED.nodes.dirty(false), so Deploy is re-offered on 'flows:loaded'. A current node, or
   * one from a newer release, is not touched.
   */
  function installEditor(RED, api) {
    if (!RED || !RED.events) return;
    var migratedSinceLoad = false;

    RED.events.on('nodes:add', function (node) {
      if (!node || !node._def || !node._def.defaults || !Object.prototype.hasOwnProperty.call(api.STEPS, node.type)) return;
      if (api.configVersion(node) >= api.currentVersion(node.type)) return;
      // A locked flow refuses edits; the runtime still migrates its nodes each time it starts them.
      var z = node.z && (RED.nodes.workspace(node.z) || RED.nodes.subflow(node.z));
      if (z && z.locked) return;
      var before = {};
      for (var key in node._def.defaults) {
        if (Object.prototype.hasOwnProperty.call(node._def.defaults, key)) before[key] = node[key];
      }
      var after;
      try {
        after = api.migrate(node.type, before);
      } catch (err) {
        console.warn('[node-red-contrib-octoeverywhere] ' + node.type + ' ' + node.id + ': ' + err);
        return;
      }
      // Only the node's own properties (its defaults) are written: never credentials, ids or wires.
      var changed = false;
      for (key in node._def.defaults) {
        if (!Object.prototype.hasOwnProperty.call(node._def.defaults, key)) continue;
        if (JSON.stringify(after[key]) === JSON.stringify(node[key])) continue;
        if (after[key] === undefined) delete node[key];
        else node[key] = after[key];
        changed = true;
      }
      if (!changed) return;
      node.changed = true;
      node.dirty = true;
      migratedSinceLoad = true;
      RED.nodes.dirty(true);
    });

    RED.events.on('flows:loaded', function () {
      if (migratedSinceLoad) RED.nodes.dirty(true);
      migratedSinceLoad = false;
    });
  }
})(this, function () {
  'use strict';

  /** Configs saved before nodes carried `version` are version 1: the first shape that shipped. */
  var FIRST_VERSION = 1;

  function copy(config) {
    var out = {};
    for (var key in config) {
      if (Object.prototype.hasOwnProperty.call(config, key)) out[key] = config[key];
    }
    return out;
  }

  /** Each node type's steps, in order; version 1 is the first shape, so an empty list means "still 1". */
  var STEPS = {
    'octoeverywhere-app-connection': [],
    'octoeverywhere-printer-request': [],
    'octoeverywhere-webcam-snapshot': [],
    'octoeverywhere-printer-command': [],
    'octoeverywhere-live-link': [],
    'octoeverywhere-status-poll': [
      {
        // Issue 16: the status node gains `mode` (poll | live | auto; auto for new nodes). A flow
        // saved before keeps polling, as it always did.
        to: 2,
        up: function (config) {
          var next = copy(config);
          if (next.mode === undefined || next.mode === '') next.mode = 'poll';
          return next;
        },
      },
    ],
    'octoeverywhere-notification-webhook': [],
    'octoeverywhere-gadget-api': [],
    'octoeverywhere-failure-detection': [],
    'octoeverywhere-printer-socket': [],
    'octoeverywhere-printer-mqtt': [],
    'octoeverywhere-home-assistant': [],
  };

  function configVersion(config) {
    var v = config.version;
    var n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    return typeof n === 'number' && n % 1 === 0 && n >= FIRST_VERSION ? n : FIRST_VERSION;
  }

  /**
   * The config in the newest shape the steps know, `version` set; steps run in order from the
   * config's version up. A version newer than every step (a flow from a later release) is kept.
   */
  function applySteps(config, steps) {
    var current = copy(config);
    var version = configVersion(current);
    var ordered = steps.slice().sort(function (a, b) {
      return a.to - b.to;
    });
    for (var i = 0; i < ordered.length; i++) {
      var step = ordered[i];
      if (step.to <= version) continue;
      if (step.to !== version + 1) throw new Error('migration to version ' + step.to + ' cannot follow version ' + version);
      current = step.up(current);
      version = step.to;
    }
    current = copy(current);
    current.version = version;
    return current;
  }

  function stepsFor(type) {
    if (!Object.prototype.hasOwnProperty.call(STEPS, type)) throw new Error('no migration list for node type ' + type);
    return STEPS[type];
  }

  /** The version a new node of this type is saved with (its `version` default in nodes/<type>.html). */
  function currentVersion(type) {
    var steps = stepsFor(type);
    var max = FIRST_VERSION;
    for (var i = 0; i < steps.length; i++) if (steps[i].to > max) max = steps[i].to;
    return max;
  }

  function migrate(type, config) {
    return applySteps(config, stepsFor(type));
  }

  return { FIRST_VERSION: FIRST_VERSION, STEPS: STEPS, configVersion: configVersion, applySteps: applySteps, currentVersion: currentVersion, migrate: migrate };
});
