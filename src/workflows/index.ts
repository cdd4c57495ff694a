export * from './generation-run';
