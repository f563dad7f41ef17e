// What `npm start` (scripts/start.js) decides and prepares, apart from the processes it runs, so that
// tests can call it: the demo's user dir (its settings, its own credential secret) and which config
// nodes a start may re-point at its new simulator.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const DEMO_CONNECTION = 'oe-demo-connection';
const CONNECTION_TYPE = 'octoeverywhere-app-connection';
/** The credential secret that earlier versions of the demo used for every user dir: published in the repo. */
const PUBLISHED_SECRET = 'octoeverywhere-local-demo';
const SECRET_FILE = 'octoeverywhere-demo-secret';
/** What the last start deployed: a config node still pointing there is the demo's, not the user's. */
const RECORD_FILE = 'octoeverywhere-demo.json';
const CREDENTIALS_FILE = 'flows_cred.json';

// ---- credentials in Node-RED's format (@node-red/runtime lib/nodes/credentials.js) ------------------
// {"$": hex IV (16 bytes) + base64 of aes-256-ctr(JSON of all credentials)}, key = sha256(secret).

const keyOf = (secret) => crypto.createHash('sha256').update(secret).digest();

/** The credentials in `file` if they were encrypted with `secret`, else undefined. */
function decryptCredentials(file, secret) {
  let stored;
  try {
    stored = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (!stored || typeof stored.$ !== 'string' || Object.keys(stored).length !== 1) return undefined;
  try {
    const iv = Buffer.from(stored.$.slice(0, 32), 'hex');
    const decipher = crypto.createDecipheriv('aes-256-ctr', keyOf(secret), iv);
    const plain = decipher.update(stored.$.slice(32), 'base64', 'utf8') + decipher.final('utf8');
    // A wrong key gives bytes that are not JSON (CTR mode has no integrity check of its own).
    const creds = JSON.parse(plain);
    return creds && typeof creds === 'object' && !Array.isArray(creds) ? creds : undefined;
  } catch {
    return undefined;
  }
}

function encryptCredentials(creds, secret) {
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-ctr', keyOf(secret), iv);
  return { $: iv.toString('hex') + cipher.update(JSON.stringify(creds), 'utf8', 'base64') + cipher.final('base64') };
}

/** Writes through a temporary file and a rename, so that a crash leaves the old file or the new one. */
function writeAtomically(file, text, mode) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}

// ---- the user dir -------------------------------------------------------------------------------------

/** This user dir's credential secret: 32 random bytes made on its first start, in a file only the user can read. */
function credentialSecret(userDir) {
  const file = path.join(userDir, SECRET_FILE);
  try {
    // 'wx': never replace a secret that exists, even if two starts race.
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
  fs.chmodSync(file, 0o600);
  const secret = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(secret)) throw new Error(`${file} is not a credential secret made by npm start: restore it or remove the user dir ${userDir}.`);
  return secret;
}

/**
 * Re-encrypts flows_cred.json from the published key to this user dir's secret, so that the secrets
 * of a user dir made by an earlier version survive. Returns whether it did.
 */
function migrateCredentials(userDir, secret) {
  const file = path.join(userDir, CREDENTIALS_FILE);
  const creds = decryptCredentials(file, PUBLISHED_SECRET);
  if (!creds) return false;
  writeAtomically(file, `${JSON.stringify(encryptCredentials(creds, secret), null, 4)}\n`, 0o600);
  return true;
}

/** Makes `userDir` a Node-RED user dir that loads this package from `root`, with its own credential secret. */
function prepareUserDir(userDir, { root, port }) {
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  // Node-RED loads the packages its user dir lists from its node_modules: link this one there.
  const link = path.join(userDir, 'node_modules', 'node-red-contrib-octoeverywhere');
  if (!fs.existsSync(link)) fs.symlinkSync(root, link, 'dir');
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({ name: 'octoeverywhere-demo', private: true, dependencies: { 'node-red-contrib-octoeverywhere': '*' } }, null, 2),
  );
  const secret = credentialSecret(userDir);
  const migrated = migrateCredentials(userDir, secret);
  fs.writeFileSync(
    path.join(userDir, 'settings.js'),
    `const fs = require('node:fs');
const path = require('node:path');

module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  flowFile: 'flows.json',
  // Made for this user dir on its first npm start; only you can read the file.
  credentialSecret: fs.readFileSync(path.join(__dirname, '${SECRET_FILE}'), 'utf8').trim(),
  editorTheme: { tours: false },
  // A local demo: no update checks or usage reports leave this machine, and no consent prompt.
  telemetry: { enabled: false },
};
`,
  );
  return { migrated };
}

// ---- what a start may re-point --------------------------------------------------------------------------

function readRecord(userDir) {
  try {
    const record = JSON.parse(fs.readFileSync(path.join(userDir, RECORD_FILE), 'utf8'));
    return record && typeof record.serviceUrl === 'string' && typeof record.connectionId === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

function writeRecord(userDir, record) {
  writeAtomically(path.join(userDir, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`, 0o644);
}

/** The record of a deploy: the simulator's address and App Connection, and a hash of its URL (not the URL). */
function recordOf(serviceUrl, connection) {
  return { serviceUrl, connectionId: connection.id, urlSha256: crypto.createHash('sha256').update(connection.url).digest('hex') };
}

/**
 * Why a config node is not the demo's any more, or undefined when a start may re-point it: its
 * service URL and connection id (and its URL, where the credentials say) are still those an earlier
 * start deployed. `creds` are the node's stored credentials, when readable.
 */
function whyNotOurs(node, record, creds) {
  if (!record) return `no earlier npm start recorded deploying it (${RECORD_FILE} is missing)`;
  if (node.serviceUrl !== record.serviceUrl || node.connectionId !== record.connectionId) {
    return `it points at ${node.serviceUrl || 'no service URL'} (connection ${node.connectionId || 'none'}), not at the simulator an earlier npm start deployed (${record.serviceUrl})`;
  }
  if (creds && typeof creds.url === 'string' && crypto.createHash('sha256').update(creds.url).digest('hex') !== record.urlSha256) {
    return 'its connection URL is not the one an earlier npm start deployed';
  }
  return undefined;
}

/**
 * The flows to deploy for this start (undefined: deploy nothing), the config nodes re-pointed at the new
 * simulator and those left as they are, with the reason. An empty flow gets the demo flow.
 */
function planDeploy({ flows, record, credentials, demoFlow, target }) {
  let next = flows;
  const repointed = [];
  const left = [];
  if (flows.length === 0) {
    next = demoFlow;
    repointed.push(DEMO_CONNECTION);
  } else {
    for (const n of flows) {
      if (n.type !== CONNECTION_TYPE) continue;
      const why = whyNotOurs(n, record, credentials ? credentials[n.id] : undefined);
      if (why) left.push({ id: n.id, name: n.name || n.printerName || n.id, why });
      else repointed.push(n.id);
    }
    // Nodes still use the demo printer but it was deleted (the way back to the demo): nothing to
    // overwrite, so add it again.
    if (!flows.some((n) => n.id === DEMO_CONNECTION) && flows.some((n) => n.connection === DEMO_CONNECTION)) {
      next = [...flows, ...demoFlow.filter((n) => n.id === DEMO_CONNECTION)];
      repointed.push(DEMO_CONNECTION);
    }
  }
  if (repointed.length === 0) return { flows: undefined, repointed, left };
  const ids = new Set(repointed);
  next = next.map((n) =>
    ids.has(n.id)
      ? { ...n, serviceUrl: target.serviceUrl, printerName: target.printerName, connectionId: target.connectionId, credentials: target.credentials }
      : n,
  );
  return { flows: next, repointed, left };
}

/** The user dir's stored credentials by node id, read with its secret (undefined when there are none yet). */
function storedCredentials(userDir) {
  const file = path.join(userDir, SECRET_FILE);
  if (!fs.existsSync(file)) return undefined;
  return decryptCredentials(path.join(userDir, CREDENTIALS_FILE), fs.readFileSync(file, 'utf8').trim());
}

module.exports = {
  DEMO_CONNECTION,
  PUBLISHED_SECRET,
  SECRET_FILE,
  RECORD_FILE,
  credentialSecret,
  migrateCredentials,
  prepareUserDir,
  readRecord,
  writeRecord,
  recordOf,
  planDeploy,
  storedCredentials,
};
