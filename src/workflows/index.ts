export * from './generation-run';
export * from './user-grants';
