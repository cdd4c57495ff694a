export * from './hitl-client';
export * from './errors';
export * from './connect';
export * from './grants';
export * from './run-liveness';
