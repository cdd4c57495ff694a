// The workflow bundle evaluates every module its entry imports for each new run and each replay (the SDK
// gives every run its own copy of them), except the modules it preloads and shares (SHARED_WORKFLOW_MODULES
// in src/worker.ts). Building zod schemas costs ~12 ms of the single workflow thread per run, so no module a
// run evaluates up front may import zod: schemas are reached only through the workflow's lazy loader
// (src/workflows/zod-contracts.ts), for a refusal or an input the fast parser does not know.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { SHARED_WORKFLOW_MODULES } from '../../src/worker';

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = path.join(ROOT, 'src/workflows/index.ts');

/** Specifiers of the imports and re-exports that are evaluated with the module (not type-only ones). */
function valueImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const specifiers: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((element) => element.isTypeOnly)));
      if (!typeOnly) specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && !statement.isTypeOnly) {
      specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return specifiers;
}

/** Top-level `let` / `var` declarations: module state that every run sharing the module would share. */
function mutableTopLevel(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  return source.statements
    .filter((s): s is ts.VariableStatement => ts.isVariableStatement(s))
    .filter((s) => (s.declarationList.flags & (ts.NodeFlags.Const | ts.NodeFlags.Using)) === 0)
    .flatMap((s) => s.declarationList.declarations.map((d) => d.name.getText(source)));
}

const usesWorkflowApi = (file: string): boolean =>
  valueImports(file).some((s) => s === '@temporalio/workflow' || s.startsWith('@temporalio/workflow/'));

function resolveLocal(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // next candidate
    }
  }
  throw new Error(`cannot resolve ${specifier} from ${from}`);
}

/** Every module evaluated up front from `entry`, each with the chain of imports that reaches it. */
function evaluatedModules(entry: string): Map<string, string[]> {
  const reached = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const specifier of valueImports(file)) {
      const target = specifier.startsWith('.') ? resolveLocal(file, specifier) : specifier;
      if (reached.has(target)) continue;
      reached.set(target, [...reached.get(file)!, target]);
      if (specifier.startsWith('.')) queue.push(target);
    }
  }
  return reached;
}

describe('workflow bundle imports', () => {
  it('no module a run evaluates up front imports zod', () => {
    const reached = evaluatedModules(ENTRY);
    // Every local module that imports zod itself, each with one chain that evaluates it.
    const importers = [...reached.keys()].filter(
      (file) => file.endsWith('.ts') && valueImports(file).some((s) => s === 'zod' || s.startsWith('zod/')),
    );
    const chains = importers.map((file) =>
      reached
        .get(file)!
        .map((each) => path.relative(ROOT, each))
        .join(' → '),
    );
    assert.deepEqual(chains, [], `zod is evaluated for every run through:\n${chains.join('\n')}`);
  });

  it('sees through the lazy loader: the schemas stay reachable from it', () => {
    // The check above must not pass by missing imports: the loader's own graph does reach zod.
    const reached = evaluatedModules(path.join(ROOT, 'src/contracts/index.ts'));
    assert.ok(reached.has('zod'));
  });

  // The SDK evaluates these once per worker thread, before any run exists, and every run shares them
  // (src/worker.ts, SHARED_WORKFLOW_MODULES): they, and what they import, may hold no per-run state and call
  // no workflow API when they load.
  it('the modules every run shares keep no module state and use no workflow API', () => {
    const shared = new Map<string, string[]>();
    for (const root of SHARED_WORKFLOW_MODULES)
      for (const [file, chain] of evaluatedModules(root)) shared.set(file, chain);
    const problems: string[] = [];
    for (const [file, chain] of shared) {
      if (!file.endsWith('.ts')) continue;
      const via = chain.map((each) => path.relative(ROOT, each)).join(' → ');
      if (usesWorkflowApi(file)) problems.push(`${via} imports @temporalio/workflow`);
      if (valueImports(file).some((s) => s === 'zod' || s.startsWith('zod/'))) problems.push(`${via} imports zod`);
      for (const name of mutableTopLevel(file)) problems.push(`${via} has module state \`${name}\``);
    }
    assert.deepEqual(problems, []);
  });

  it('every module a run evaluates up front is shared, but for the workflows and what calls the workflow API', () => {
    const shared = new Set(SHARED_WORKFLOW_MODULES.flatMap((root) => [...evaluatedModules(root).keys()]));
    const perRun = [...evaluatedModules(ENTRY).keys()]
      .filter((file) => file.endsWith('.ts') && !shared.has(file))
      .map((file) => `${path.relative(ROOT, file)}${usesWorkflowApi(file) ? ' (workflow API)' : ''}`)
      .sort();
    assert.deepEqual(perRun, [
      'src/contracts/temporal.ts (workflow API)',
      'src/workflows/generation-run.ts (workflow API)',
      'src/workflows/index.ts',
      'src/workflows/timed-wait.ts (workflow API)',
      'src/workflows/user-grants.ts (workflow API)',
    ]);
  });
});
