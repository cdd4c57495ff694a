// Everything here is sandbox-safe: the workflow bundle imports it.
export * from './json-limits';
export * from './values';
export * from './agents';
export * from './messages';
export * from './run-input';
export * from './elicitation';
export * from './elicitation-content';
export * from './pending-action';
export * from './resolution';
export * from './errors';
export * from './run-state';
export * from './temporal';
export * from './activities';
export * from './grants';
export * from './transcript';
export * from './mcp';
