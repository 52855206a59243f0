export { startScheduler, type RunningScheduler } from './start-scheduler.js';
