// The contracts with their zod schemas, for the workflow: loaded on first use only (webpack evaluates a
// `require` inside a function when it runs). A run evaluates its bundle's modules for itself, and building
// every schema took ~12 ms of the single workflow thread per new run and per replay; most runs never need
// them (./parse.ts parses the usual inputs without zod). test/unit/workflow-imports.test.ts keeps it so.
import type * as Contracts from '../contracts';

export function zodContracts(): typeof Contracts {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require is the point: an import evaluates at once
  return require('../contracts') as typeof Contracts;
}
