export { startWorker, type RunningWorker } from './start-worker.js';
export { loadEngine, quantize } from './engine/native-engine.js';
export type * from './engine/engine-api.js';
