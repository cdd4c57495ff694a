// A run's transcript in the content store: how messages are written, read for the model, and read whole.
export * from './store-transcript';
