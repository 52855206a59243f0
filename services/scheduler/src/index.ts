export { startScheduler, type RunningScheduler } from './start-scheduler.js';
// The core and its step encoding, for drivers that step an engine in-process (the serving benchmark's
// control-plane baseline) instead of through a worker.
export { Scheduler } from './core/index.js';
export { toStepRequest } from './to-step-request.js';
