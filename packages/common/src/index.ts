export * from './names.js';
export * from './metric-names.js';
export * from './contracts.js';
export * from './config.js';
export * from './logger.js';
export * from './redis.js';
export * from './metrics-server.js';
export * from './free-port.js';
