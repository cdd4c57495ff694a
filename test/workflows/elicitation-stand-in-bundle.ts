// TEST-ONLY: the bundle of the elicitation stand-in (see test/support/elicitation.ts). It is registered under
// the workflow type the HTTP API serves, `generationRun`, on a task queue of its own; the shared test bundle
// (./index.ts) keeps the real generationRun.
export { elicitationStandIn as generationRun } from './elicitation-stand-in';
