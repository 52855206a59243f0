export { startGateway, type StartGatewayOptions, type RunningGateway } from './gateway.js';
export { QueueFullError, type InferenceBackend } from './backend/inference-backend.js';
export { RedisBackend, REQUEST_JOB_NAME, type RedisBackendOptions } from './backend/redis-backend.js';
export { ApiError, type ErrorBody } from './errors/api-error.js';
export { openAiSchemaValidator, type SchemaValidator } from './testing/openai-schema.js';
export { echoNullsFilled } from './testing/echo-nulls-filled.js';
export { clearOfWindowEdge } from './testing/clear-of-window-edge.js';
export { keyDigestHex } from './auth/api-key-records.js';
export { responseEventSchema } from './testing/response-event-schema.js';
