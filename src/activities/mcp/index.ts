export * from './env';
export * from './manager';
export * from './tools';
export * from './validate';
export * from './elicitation';
