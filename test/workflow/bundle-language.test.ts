// The workflow bundle runs our TypeScript as ES2022 (src/worker.ts, `workflowBundleOptions`): the SDK's bundler
// would compile it for ES2017, turning every object spread, `?.` and `??` of the workflow code into helper
// calls that each run and each replay pays for. The compiled worker's bundle gets ES2022 from tsc.
import { strict as assert } from 'node:assert';
import { getWorkflowBundle } from '../hooks';

/** The bundled code of one of our modules (webpack keys each module by its path in development mode). */
function moduleCode(code: string, modulePath: string): string {
  const start = code.indexOf(`/***/ "${modulePath}"`);
  assert.ok(start >= 0, `${modulePath} is not in the bundle`);
  const next = code.indexOf('\n/***/ "', start + 1);
  return code.slice(start, next < 0 ? undefined : next);
}

describe('workflow bundle language level', () => {
  it('keeps object spread, ?. and ?? of the workflow code native (no ES2017 helpers)', async () => {
    const { code } = await getWorkflowBundle();
    const run = moduleCode(code, './src/workflows/generation-run.ts');
    assert.doesNotMatch(run, /_object_spread/, 'object spread compiled to a helper');
    assert.match(run, /\{\s*\.\.\.[A-Za-z_$]/, 'no native object spread left');
    assert.match(run, /\?\.[A-Za-z_$]/, 'optional chaining compiled away');
    assert.match(run, / \?\? /, 'nullish coalescing compiled away');
    assert.doesNotMatch(code, /function _object_spread\(/, 'some module still gets the object-spread helper');
  });
});
