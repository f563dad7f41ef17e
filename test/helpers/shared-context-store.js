// A Node-RED context store shared by several Node-RED processes, for the scaling tests: one file per
// key in a common directory, each written whole by rename, so two instances never overwrite each
// other's keys. It stands in for what a farm would use (a store plugin on Redis or a database that
// every instance reaches); Node-RED's localfilesystem store is no such thing: each process caches
// its files and rewrites a whole scope's file, and its clean() deletes the contexts of nodes it does
// not know, which in a shared directory are the other instance's.
'use strict';
const fs = require('node:fs/promises');
const path = require('node:path');

/** @param {{ dir: string }} config */
function SharedFileStore(config) {
  const dir = config.dir;
  const file = (scope, key) => path.join(dir, encodeURIComponent(scope), `${encodeURIComponent(key)}.json`);

  const read = async (scope, key) => {
    try {
      return JSON.parse(await fs.readFile(file(scope, key), 'utf8'));
    } catch (err) {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    }
  };
  const write = async (scope, key, value) => {
    const target = file(scope, key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    if (value === undefined) {
      await fs.rm(target, { force: true });
      return;
    }
    const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(temp, JSON.stringify(value));
    await fs.rename(temp, target);
  };
  const done = (callback, work) =>
    work.then(
      (value) => callback(null, value),
      (err) => callback(err),
    );

  return {
    open: () => fs.mkdir(dir, { recursive: true }),
    close: () => Promise.resolve(),
    get(scope, key, callback) {
      if (typeof callback !== 'function') throw new Error('the shared store is asynchronous: pass a callback');
      if (Array.isArray(key)) {
        Promise.all(key.map((k) => read(scope, k))).then(
          (values) => callback(null, ...values),
          (err) => callback(err),
        );
        return;
      }
      done(callback, read(scope, key));
    },
    set(scope, key, value, callback) {
      const keys = Array.isArray(key) ? key : [key];
      const values = Array.isArray(key) ? value : [value];
      done(callback ?? (() => undefined), Promise.all(keys.map((k, i) => write(scope, k, values[i]))));
    },
    keys(scope, callback) {
      done(
        callback,
        fs.readdir(path.join(dir, encodeURIComponent(scope))).then(
          (names) => names.filter((n) => n.endsWith('.json')).map((n) => decodeURIComponent(n.slice(0, -5))),
          () => [],
        ),
      );
    },
    delete: (scope) => fs.rm(path.join(dir, encodeURIComponent(scope)), { recursive: true, force: true }),
    // Another instance's nodes are unknown here, not gone: nothing is cleaned.
    clean: () => Promise.resolve(),
  };
}

module.exports = SharedFileStore;
