export * from './proto-paths.js';
export * from './worker-messages.js';
export * from './load-protos.js';
