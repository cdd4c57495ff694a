// Mocha configuration. It is JavaScript rather than JSON for one reason: mocha *adds* the files named on
// the command line to a configured `spec` instead of replacing it (mochajs/mocha#5412), so with a fixed
// spec `npx mocha test/workflow/smoke.test.ts` and `npm run test:unit` would run every suite and start
// the Temporal dev server. Here the default spec applies only when the command line names none.
'use strict';
const path = require('node:path');

const DEFAULT_SPEC = ['test/**/*.test.ts'];

function commandLineNamesSpecs() {
  try {
    const mochaDir = path.dirname(require.resolve('mocha/package.json'));
    const { types, aliases } = require(path.join(mochaDir, 'lib', 'cli', 'run-option-metadata'));
    const parse = require(require.resolve('yargs-parser', { paths: [mochaDir] }));
    const args = parse(process.argv.slice(2), { ...types, alias: aliases });
    return args._.length > 0 || (args.spec !== undefined && args.spec.length > 0);
  } catch {
    return false;
  }
}

module.exports = {
  require: ['ts-node/register/transpile-only', 'test/hooks.ts'],
  extension: ['ts'],
  ...(commandLineNamesSpecs() ? {} : { spec: DEFAULT_SPEC }),
  timeout: 60000,
  exit: true,
};
