export { createProgram } from './program.js';
export { addConfigOptions, configOf, envOf, optionOf } from './config-options.js';
export { DEFAULT_MODEL, DEFAULT_MODEL_NOTICE, resolveModel, type ResolvedModel } from './default-model.js';
export { READY_EVENT, STOP_ON_STDIN_EOF } from './child-protocol.js';
export type { RunningService, ServiceKind } from './service-kinds.js';
export { configDoc, configTable } from './config-table.js';
