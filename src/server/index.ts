export * from './app';
export * from './auth';
export * from './console';
export * from './dev-secret';
export * from './events';
export * from './grant-offers';
export * from './http-errors';
export * from './run-access';
export * from './schemas';
export {
  apiListenAddress,
  ApiStartError,
  consoleUrl,
  describeApiServer,
  startApiServer,
  startApiSurface,
  type ApiServer,
  type StartApiServerOptions,
} from './main';
