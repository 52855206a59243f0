export { startWorker, type RunningWorker } from './start-worker.js';
export { loadEngine, quantize, weightTypeLayout } from './engine/native-engine.js';
export type * from './engine/engine-api.js';
// What a worker steps the engine with, for drivers that run it in-process (the serving benchmark's
// control-plane baseline).
export { PersistentBatch } from './persistent-batch.js';
export { buildModelCard, kvCacheGroupsOf } from './model-card.js';
