export { startGateway, type StartGatewayOptions, type RunningGateway } from './gateway.js';
export { QueueFullError, type InferenceBackend } from './backend/inference-backend.js';
export { RedisBackend, REQUEST_JOB_NAME, type RedisBackendOptions } from './backend/redis-backend.js';
export { ApiError, type ErrorBody } from './errors/api-error.js';
export { keyDigestHex } from './auth/api-key-records.js';
