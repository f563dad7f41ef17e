'use strict';
// Tests are TypeScript run through tsx. `mocha` alone runs the whole suite; `mocha <files or dirs>`
// runs just those (mocha would otherwise add the configured spec to the ones named).
const named = process.argv.slice(2).some((a) => /\.test\.ts$|^test\//.test(a));

module.exports = {
  require: ['tsx/cjs', './test/setup.ts'],
  extension: ['ts'],
  recursive: true,
  ...(named ? {} : { spec: ['test/**/*.test.ts'] }),
  reporter: './test/reporter.js',
  timeout: 20000,
  exit: true,
};
