// The compiled worker's check of a prebuilt workflow bundle (src/prebuilt-bundle.ts): a bundle is used only
// when its manifest says it was built from exactly what this worker would bundle now. Pure logic and files
// in a temp folder: nothing is bundled or compiled here (npm run build does that; CI runs it).
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BundleOptions } from '@temporalio/worker';
import { ConfigError } from '../../src/agent-config';
import {
  BUNDLE_ENV,
  bundleMismatch,
  chooseWorkflowBundle,
  describeBundleOptions,
  expectationOf,
  fileSha256,
  manifestPathOf,
  MANIFEST_FORMAT,
  sha256,
  type BundleExpectation,
  type BundleManifest,
} from '../../src/prebuilt-bundle';
import { FAILURE_CONVERTER_PATH, WORKFLOWS_PATH, workflowBundleOptions } from '../../src/worker';

const EXPECTED: BundleExpectation = {
  sdkVersion: '1.24.0',
  entry: 'dist/workflows/index.js',
  options: { failureConverterPath: 'dist/failure-converter.js' },
};

function manifest(overrides: Partial<BundleManifest> = {}): BundleManifest {
  return {
    format: MANIFEST_FORMAT,
    builtAt: '2026-11-26T00:00:00.000Z',
    ...EXPECTED,
    bundleSha256: 'bundle-hash',
    files: { 'dist/workflows/index.js': 'h1', 'node_modules/zod/package.json': 'h2' },
    ...overrides,
  };
}

const SAME: Record<string, string> = { 'dist/workflows/index.js': 'h1', 'node_modules/zod/package.json': 'h2' };
const hashes = (files: Record<string, string>) => (file: string) => files[file];

describe('prebuilt workflow bundle: does it match this code?', () => {
  it('matches when the version, entry, options, bundle and every file are the same', () => {
    assert.equal(bundleMismatch(manifest(), EXPECTED, hashes(SAME), 'bundle-hash'), undefined);
  });

  it('does not match when a source file changed or is missing, and names it', () => {
    assert.equal(
      bundleMismatch(manifest(), EXPECTED, hashes({ ...SAME, 'dist/workflows/index.js': 'other' }), 'bundle-hash'),
      'dist/workflows/index.js changed since it was built',
    );
    const { 'node_modules/zod/package.json': _gone, ...rest } = SAME;
    assert.equal(
      bundleMismatch(manifest(), EXPECTED, hashes(rest), 'bundle-hash'),
      'node_modules/zod/package.json is missing since it was built',
    );
    assert.match(
      bundleMismatch(manifest(), EXPECTED, hashes({}), 'bundle-hash') ?? '',
      /^dist\/workflows\/index\.js is missing since it was built \(and 1 more file\(s\)\)$/,
    );
  });

  it('does not match a bundle of other workflows, options or SDK, or a bundle changed after its build', () => {
    const cases: [Partial<BundleManifest>, RegExp][] = [
      [{ entry: 'src/workflows/index.ts' }, /built from src\/workflows\/index\.ts, this worker runs dist\//],
      [{ options: {} }, /other bundle options/],
      [{ options: { ...EXPECTED.options, preloadModules: ['zod'] } }, /other bundle options/],
      [{ sdkVersion: '1.23.0' }, /@temporalio\/worker 1\.23\.0, this worker has 1\.24\.0/],
      [{ bundleSha256: 'older' }, /bundle file was changed after it was built/],
      [{ files: {} }, /lists no source files/],
    ];
    for (const [overrides, expected] of cases) {
      assert.match(bundleMismatch(manifest(overrides), EXPECTED, hashes(SAME), 'bundle-hash') ?? '', expected);
    }
    assert.match(bundleMismatch(manifest(), EXPECTED, hashes(SAME), undefined) ?? '', /cannot be read/);
  });

  it('refuses a manifest it does not understand', () => {
    assert.match(bundleMismatch('nope', EXPECTED, hashes(SAME), 'bundle-hash') ?? '', /not a JSON object/);
    const future = { ...manifest(), format: 2 };
    assert.match(bundleMismatch(future, EXPECTED, hashes(SAME), 'bundle-hash') ?? '', /format 2, not 1/);
  });

  it('describes the bundle options with paths relative to the package root, entry and logger left out', () => {
    const root = path.join(path.sep, 'app');
    const options: BundleOptions = {
      workflowsPath: path.join(root, 'dist', 'workflows', 'index.js'),
      failureConverterPath: path.join(root, 'dist', 'failure-converter.js'),
      preloadModules: ['zod'],
      logger: undefined,
      ignoreModules: undefined,
    };
    assert.deepEqual(describeBundleOptions(options, root), {
      failureConverterPath: 'dist/failure-converter.js',
      preloadModules: ['zod'],
    });
  });

  it("the worker's bundle options: its workflows, with the failure converter", () => {
    assert.equal(workflowBundleOptions().workflowsPath, WORKFLOWS_PATH);
    assert.equal(workflowBundleOptions().failureConverterPath, FAILURE_CONVERTER_PATH);
    assert.equal(workflowBundleOptions('/elsewhere/index.ts').workflowsPath, '/elsewhere/index.ts');
  });
});

describe('prebuilt workflow bundle: which bundle the worker loads', () => {
  let root: string;
  let options: BundleOptions;
  let bundle: string;

  /** A package in a temp folder with a "compiled" workflow entry and a bundle + manifest that match it. */
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'hitl-prebuilt-'));
    writeFileSync(path.join(root, 'package.json'), '{"name":"x"}\n');
    mkdirSync(path.join(root, 'dist', 'workflows'), { recursive: true });
    const entry = path.join(root, 'dist', 'workflows', 'index.js');
    writeFileSync(entry, 'exports.generationRun = () => {};\n');
    options = { workflowsPath: entry, failureConverterPath: path.join(root, 'dist', 'failure-converter.js') };
    writeFileSync(options.failureConverterPath!, 'exports.failureConverter = {};\n');
    bundle = path.join(root, 'dist', 'workflow-bundle.js');
    writeFileSync(bundle, '/* bundle */\n');
    const files = Object.fromEntries(
      [entry, options.failureConverterPath!, path.join(root, 'package.json')].map((file) => [
        path.relative(root, file).split(path.sep).join('/'),
        fileSha256(file)!,
      ]),
    );
    const written: BundleManifest = {
      format: MANIFEST_FORMAT,
      builtAt: new Date().toISOString(),
      ...expectationOf(options, root),
      bundleSha256: sha256('/* bundle */\n'),
      files,
    };
    writeFileSync(manifestPathOf(bundle), JSON.stringify(written));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('loads the bundle next to the worker when it matches', () => {
    const choice = chooseWorkflowBundle(options, {}, bundle, root);
    assert.equal(choice.codePath, bundle);
    assert.match(choice.description, /^prebuilt .*workflow-bundle\.js$/);
    assert.equal(choice.warning, undefined);
  });

  it('bundles at start, quietly, when there is no bundle next to the worker (ts-node)', () => {
    const choice = chooseWorkflowBundle(options, {}, path.join(root, 'src', 'workflow-bundle.js'), root);
    assert.deepEqual(choice, { description: 'bundled at start' });
  });

  it('bundles at start with one line saying why when the bundle next to it was built from other code', () => {
    writeFileSync(options.workflowsPath, 'exports.generationRun = () => 42;\n');
    const choice = chooseWorkflowBundle(options, {}, bundle, root);
    assert.equal(choice.codePath, undefined);
    assert.match(choice.warning ?? '', /not used: dist\/workflows\/index\.js changed since it was built; bundling/);
    rmSync(manifestPathOf(bundle));
    assert.match(chooseWorkflowBundle(options, {}, bundle, root).warning ?? '', /manifest .* is missing/);
  });

  it(`${BUNDLE_ENV} names a bundle elsewhere; one that does not match stops the worker`, () => {
    const elsewhere = path.join(root, 'nowhere.js');
    const env = { [BUNDLE_ENV]: bundle };
    assert.equal(chooseWorkflowBundle(options, env, elsewhere, root).codePath, bundle);
    writeFileSync(bundle, '/* edited */\n');
    assert.throws(
      () => chooseWorkflowBundle(options, env, elsewhere, root),
      (err: unknown) =>
        err instanceof ConfigError &&
        /HITL_WORKFLOW_BUNDLE: cannot use .*: the bundle file was changed after it was built; rebuild it/.test(
          err.message,
        ),
    );
    assert.throws(
      () => chooseWorkflowBundle(options, { [BUNDLE_ENV]: elsewhere }, bundle, root),
      /HITL_WORKFLOW_BUNDLE: cannot use .*nowhere\.js does not exist/,
    );
  });
});
