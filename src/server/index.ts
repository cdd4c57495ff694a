export * from './app';
export * from './auth';
export * from './events';
export * from './http-errors';
export * from './run-access';
export * from './schemas';
export { describeApiServer, startApiServer, startApiSurface, type ApiServer, type StartApiServerOptions } from './main';
