// The prebuilt workflow bundle of the compiled worker. `npm run build` compiles src/ to dist/ and then runs
// this file (`node dist/prebuilt-bundle.js`), which bundles the compiled workflows with the worker's own bundle
// options (`workflowBundleOptions()` of src/worker.ts) into dist/workflow-bundle.js, next to a manifest
// (dist/workflow-bundle.manifest.json). `node dist/worker.js` then loads that file instead of running webpack at
// start (seconds of CPU, and ~125 MiB of RSS for the worker's whole life: docs/benchmarks.md).
//
// A bundle built from other code must not be used silently. The manifest records what the bundle was built
// from: the workflows' entry, the bundle options, the @temporalio/worker version (its bundler writes the entry
// code) and the SHA-256 of the source file of every module in the bundle (our compiled workflow modules, the
// packages they import, the SDK's workflow code), with paths relative to the package root, plus the SHA-256
// of the bundle itself. Not the files read only for source maps (dist/**/*.js.map and the src/**/*.ts they
// point to): they change stack traces, not what runs, and a deployment may leave src/ out. At start the
// worker compares that with what it would bundle now (`bundleMismatch`): the bundle next to it that does not
// match is ignored with one line on stderr (the worker bundles at start, as under ts-node); one named by
// HITL_WORKFLOW_BUNDLE that does not match stops the worker.
//
//   node dist/prebuilt-bundle.js [--out <file>]   build (npm run build does it)
//   node dist/prebuilt-bundle.js --check [<file>]  does the bundle match this code? (exit 0 yes, 1 no)
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import { z } from 'zod';
import { ConfigError } from './agent-config';
import { describeIssues } from './contracts';

/** File name of the prebuilt bundle; the compiled worker looks for it next to itself. */
export const BUNDLE_FILE = 'workflow-bundle.js';
/** `dist/workflow-bundle.js` for `dist/worker.js` (`src/workflow-bundle.js` under ts-node: normally absent). */
export const DEFAULT_BUNDLE_PATH = path.join(__dirname, BUNDLE_FILE);
/** The environment variable naming a prebuilt bundle elsewhere (it must match, or the worker stops). */
export const BUNDLE_ENV = 'HITL_WORKFLOW_BUNDLE';
export const MANIFEST_FORMAT = 1;

/** The manifest written next to a prebuilt bundle (`workflow-bundle.manifest.json`). */
export const BundleManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  builtAt: z.string(),
  /** Version of @temporalio/worker, whose bundler generated the entry code. */
  sdkVersion: z.string(),
  /** The workflows' entry, relative to the package root (`dist/workflows/index.js`). */
  entry: z.string(),
  /** The bundle options besides the entry and the logger (see `describeBundleOptions`). */
  options: z.record(z.string(), z.unknown()),
  /** SHA-256 (hex) of the bundle file. */
  bundleSha256: z.string(),
  /** The source file of every module in the bundle, relative to the package root, → SHA-256 (hex). */
  files: z.record(z.string(), z.string()),
});
export type BundleManifest = z.infer<typeof BundleManifestSchema>;

/** What a bundle built now by this worker would be built from (all but the files' contents). */
export interface BundleExpectation {
  sdkVersion: string;
  entry: string;
  options: Record<string, unknown>;
}

/** `dist/workflow-bundle.js` → `dist/workflow-bundle.manifest.json`. */
export function manifestPathOf(codePath: string): string {
  return `${codePath.replace(/\.[cm]?js$/, '')}.manifest.json`;
}

/** The nearest ancestor of `from` with a package.json (paths in the manifest are relative to it). */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return from;
  }
}

/** Forward slashes, relative to `root`, so a manifest reads the same on every machine. */
function relativeTo(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/**
 * The bundle options that shape the bundle, as JSON: everything but `workflowsPath` (the manifest's `entry`)
 * and `logger`; absolute paths made relative to `root`, functions (a `webpackConfigHook`) as their source text.
 */
export function describeBundleOptions(options: BundleOptions, root: string): Record<string, unknown> {
  const describe = (value: unknown): unknown => {
    if (typeof value === 'string') return path.isAbsolute(value) ? relativeTo(root, value) : value;
    if (typeof value === 'function') return `function: ${String(value)}`;
    if (Array.isArray(value)) return value.map(describe);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, describe(v)]),
      );
    }
    return value;
  };
  const { workflowsPath: _entry, logger: _logger, ...rest } = options;
  return describe(rest) as Record<string, unknown>;
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of a file, or undefined when it cannot be read. */
export function fileSha256(file: string): string | undefined {
  try {
    return sha256(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}

export function sdkVersion(): string {
  try {
    const file = require.resolve('@temporalio/worker/package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What this process would bundle now with `options`. */
export function expectationOf(options: BundleOptions, root: string = packageRoot()): BundleExpectation {
  return {
    sdkVersion: sdkVersion(),
    entry: relativeTo(root, options.workflowsPath),
    options: describeBundleOptions(options, root),
  };
}

/**
 * Why a bundle does not match what this worker would bundle now, or undefined when it matches. Pure: the
 * files are read through `hashOf(relativePath)` (undefined: missing) and `bundleSha256` is the bundle file's.
 */
export function bundleMismatch(
  manifest: unknown,
  expected: BundleExpectation,
  hashOf: (relativePath: string) => string | undefined,
  bundleSha256: string | undefined,
): string | undefined {
  if (manifest === null || typeof manifest !== 'object') return 'its manifest is not a JSON object';
  const format = (manifest as { format?: unknown }).format;
  if (format !== MANIFEST_FORMAT) return `its manifest has format ${String(format)}, not ${MANIFEST_FORMAT}`;
  const parsed = BundleManifestSchema.safeParse(manifest);
  if (!parsed.success) return `its manifest is malformed: ${describeIssues(parsed.error)}`;
  const m = parsed.data;
  if (m.sdkVersion !== expected.sdkVersion) {
    return `it was built by @temporalio/worker ${String(m.sdkVersion)}, this worker has ${expected.sdkVersion}`;
  }
  if (m.entry !== expected.entry) return `it was built from ${String(m.entry)}, this worker runs ${expected.entry}`;
  if (JSON.stringify(m.options) !== JSON.stringify(expected.options)) {
    return `it was built with other bundle options (${JSON.stringify(m.options)}, now ${JSON.stringify(expected.options)})`;
  }
  if (bundleSha256 === undefined) return 'the bundle file cannot be read';
  if (m.bundleSha256 !== bundleSha256) return 'the bundle file was changed after it was built';
  const files = Object.entries(m.files);
  if (files.length === 0) return 'its manifest lists no source files';
  const changed: string[] = [];
  for (const [file, hash] of files) {
    const now = hashOf(file);
    if (now !== hash) changed.push(now === undefined ? `${file} is missing` : `${file} changed`);
  }
  if (changed.length === 0) return undefined;
  const more = changed.length > 1 ? ` (and ${changed.length - 1} more file(s))` : '';
  return `${changed[0]} since it was built${more}`;
}

/** `bundleMismatch` against the files on disk; also says when the bundle or its manifest is missing. */
export function checkPrebuiltBundle(
  codePath: string,
  options: BundleOptions,
  root: string = packageRoot(),
): string | undefined {
  if (!fs.existsSync(codePath)) return `${codePath} does not exist`;
  const manifestPath = manifestPathOf(codePath);
  let manifest: unknown;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : 'cannot be read';
    return `its manifest ${manifestPath} ${why}`;
  }
  return bundleMismatch(
    manifest,
    expectationOf(options, root),
    (file) => fileSha256(path.resolve(root, file)),
    fileSha256(codePath),
  );
}

export interface WorkflowBundleChoice {
  /** The prebuilt bundle to load; undefined: bundle the workflows at start (`workflowsPath`). */
  codePath?: string;
  /** For the worker's start line: `prebuilt dist/workflow-bundle.js` or `bundled at start`. */
  description: string;
  /** One line for stderr: a prebuilt bundle was found next to the worker and not used. */
  warning?: string;
}

/**
 * Which workflow bundle the worker loads. `HITL_WORKFLOW_BUNDLE=<file>`: that one, and it must match (else a
 * ConfigError: the worker stops). Otherwise `defaultPath` (the bundle next to the worker) when it exists and
 * matches; when it exists and does not match, a warning and bundling at start; when it is absent (ts-node, or
 * a build without it), bundling at start.
 */
export function chooseWorkflowBundle(
  options: BundleOptions,
  env: NodeJS.ProcessEnv = process.env,
  defaultPath: string = DEFAULT_BUNDLE_PATH,
  root: string = packageRoot(),
): WorkflowBundleChoice {
  const named = env[BUNDLE_ENV]?.trim();
  const shown = (file: string) => {
    const relative = path.relative(process.cwd(), file);
    return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
  };
  if (named) {
    const codePath = path.resolve(named);
    const mismatch = checkPrebuiltBundle(codePath, options, root);
    if (mismatch !== undefined) {
      throw new ConfigError(
        `${BUNDLE_ENV}: cannot use ${shown(codePath)}: ${mismatch}; rebuild it (npm run build) or unset ${BUNDLE_ENV}`,
      );
    }
    return { codePath, description: `prebuilt ${shown(codePath)} (${BUNDLE_ENV})` };
  }
  if (!fs.existsSync(defaultPath)) return { description: 'bundled at start' };
  const mismatch = checkPrebuiltBundle(defaultPath, options, root);
  if (mismatch === undefined) return { codePath: defaultPath, description: `prebuilt ${shown(defaultPath)}` };
  return {
    description: 'bundled at start',
    warning: `prebuilt workflow bundle ${shown(defaultPath)} not used: ${mismatch}; bundling the workflows at start instead (npm run build rebuilds it)`,
  };
}

type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];
/** The part of webpack's compiler that the module collector uses. */
interface CompilerHooks {
  hooks: {
    afterCompile: { tap(name: string, fn: (compilation: { modules: Iterable<object> }) => void): void };
  };
}

/**
 * Bundles the workflows with `options` into `codePath` and writes its manifest next to it. The files are the
 * resources of webpack's modules (its NormalModules' `resource`), minus the entry code the SDK generates in
 * memory.
 */
export async function buildPrebuiltBundle(
  options: BundleOptions,
  codePath: string,
  root: string = packageRoot(),
): Promise<BundleManifest> {
  const read = new Set<string>();
  const collector = {
    apply(compiler: CompilerHooks) {
      compiler.hooks.afterCompile.tap('hitl-prebuilt-bundle', (compilation) => {
        for (const module of compilation.modules) {
          const resource = (module as { resource?: unknown }).resource;
          if (typeof resource === 'string') read.add(resource.split('?')[0]!);
        }
      });
    },
  };
  const hook = options.webpackConfigHook;
  const bundle = await bundleWorkflowCode({
    ...options,
    webpackConfigHook: (config: WebpackConfig): WebpackConfig => {
      const hooked = hook ? hook(config) : config;
      return { ...hooked, plugins: [...(hooked.plugins ?? []), collector] };
    },
  });
  const files: Record<string, string> = {};
  // webpack resolves symlinks: a node_modules that is a link (a git worktree's) is named as the worker sees it.
  const nodeModules = path.join(root, 'node_modules');
  const realNodeModules = fs.existsSync(nodeModules) ? fs.realpathSync(nodeModules) : nodeModules;
  const named = (file: string) =>
    file.startsWith(realNodeModules + path.sep)
      ? relativeTo(root, path.join(nodeModules, path.relative(realNodeModules, file)))
      : relativeTo(root, file);
  for (const file of [...read].sort()) {
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) continue; // the generated entry (in memory)
    files[named(file)] = fileSha256(file)!;
  }
  if (Object.keys(files).length === 0) throw new Error('webpack reported no modules: cannot fingerprint the bundle');
  const manifest: BundleManifest = {
    format: MANIFEST_FORMAT,
    builtAt: new Date().toISOString(),
    ...expectationOf(options, root),
    bundleSha256: sha256(bundle.code),
    files,
  };
  fs.mkdirSync(path.dirname(codePath), { recursive: true });
  for (const [file, text] of [
    [codePath, bundle.code],
    [manifestPathOf(codePath), `${JSON.stringify(manifest, null, 2)}\n`],
  ] as const) {
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, text);
    fs.renameSync(temp, file);
  }
  return manifest;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, check: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  // Loaded here, not at the top: src/worker.ts imports this module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { workflowBundleOptions } = require('./worker') as typeof import('./worker');
  const codePath = path.resolve(values.out ?? positionals[0] ?? DEFAULT_BUNDLE_PATH);
  const options = workflowBundleOptions();
  if (values.check) {
    const mismatch = checkPrebuiltBundle(codePath, options);
    console.log(mismatch === undefined ? `${codePath}: matches this code` : `${codePath}: does not match: ${mismatch}`);
    return mismatch === undefined ? 0 : 1;
  }
  const started = Date.now();
  const noop = () => undefined;
  const manifest = await buildPrebuiltBundle(
    {
      ...options,
      logger: { log: noop, trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error },
    },
    codePath,
  );
  const size = (fs.statSync(codePath).size / 1024 / 1024).toFixed(1);
  console.log(
    `workflow bundle ${path.relative(process.cwd(), codePath)} (${size} MiB, ${Object.keys(manifest.files).length} source files, from ${manifest.entry}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`prebuilt-bundle failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
