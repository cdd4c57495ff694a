// The one workflow bundle of a test run: the product's workflows plus test-only ones.
export * from '../../src/workflows';
export * from './smoke';
export * from './grants-probe';
