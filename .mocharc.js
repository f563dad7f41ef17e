'use strict';
// Tests are TypeScript run through tsx; the nodes under test are the compiled ones in dist/,
// exactly what Node-RED loads from an installed package.
module.exports = {
  require: ['tsx/cjs', './test/setup.ts'],
  spec: ['test/**/*.test.ts'],
  ignore: ['test/e2e/**'],
  reporter: './test/reporter.js',
  timeout: 20000,
  exit: true,
};
