// The one workflow bundle of a test run: the product's workflows plus test-only ones.
export * from '../../src/workflows';
export * from './smoke';
export * from '../../src/workflows/user-grants';
export * from './grants-probe';
