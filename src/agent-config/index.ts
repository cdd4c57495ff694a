// The configuration file: agents (operator configuration), model endpoints, MCP servers. Node-side only.
export * from './load';
export * from './resolve';
export * from './schema';
export * from './source';
