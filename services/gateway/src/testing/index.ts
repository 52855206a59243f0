// Test support the cross-service tests share (`@loom/gateway/testing`); not in the production image.
export { openAiSchemaValidator, type SchemaValidator } from './openai-schema.js';
export { echoNullsFilled } from './echo-nulls-filled.js';
export { clearOfWindowEdge } from './clear-of-window-edge.js';
export { malformedRequests } from './malformed-requests.js';
export { responseEventSchema } from './response-event-schema.js';
