// Compiled JavaScript for the benchmark's "compiled worker" measurements (issue 16: workers in production run
// compiled JavaScript, not ts-node). Both build from the current sources every time, so a stale build is
// never measured.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../src/dev/temporal-cli';

/** `npm run build` (scripts/build): dist/ with the prebuilt workflow bundle; returns dist/worker.js. */
export function buildProduct(log: (line: string) => void): string {
  log('building dist/ (npm run build: tsc, console files, prebuilt workflow bundle)');
  run('bash', [path.join(REPO_ROOT, 'scripts', 'build')]);
  const entry = path.join(REPO_ROOT, 'dist', 'worker.js');
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'workflow-bundle.js'))) {
    throw new Error('npm run build wrote no dist/workflow-bundle.js');
  }
  return entry;
}

/**
 * The benchmark's worker child (bench/temporal/worker.ts: createWorker + the real activities + a timing
 * interceptor) and the sources it imports, compiled by tsc with the project's settings (bench/tsconfig.worker.json; with src/workflows and the failure converter, which src/worker.ts resolves at load)
 * into lib/bench-worker/ (inside the repository, so that node_modules resolves; lib/ is git-ignored). Returns the
 * compiled entry, which `startWorkerChild` runs with plain node.
 */
export function compileBenchWorker(log: (line: string) => void): string {
  const outDir = path.join(REPO_ROOT, 'lib', 'bench-worker');
  log(`compiling the benchmark's worker child with tsc into ${path.relative(process.cwd(), outDir)}`);
  fs.rmSync(outDir, { recursive: true, force: true });
  run(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(REPO_ROOT, 'bench', 'tsconfig.worker.json')]);
  const entry = path.join(outDir, 'bench', 'temporal', 'worker.js');
  if (!fs.existsSync(entry)) throw new Error(`tsc wrote no ${entry}`);
  return entry;
}

function run(command: string, args: string[]): void {
  // Its output goes to stderr: stdout is the benchmark's report.
  const result = spawnSync(command, args, { cwd: REPO_ROOT, stdio: ['ignore', process.stderr, process.stderr] });
  if (result.status !== 0) {
    throw new Error(`${path.basename(command)} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  }
}
