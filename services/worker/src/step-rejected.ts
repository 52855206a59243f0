/** A StepRequest the worker refuses as malformed (the scheduler's bug, not the engine's): nothing of it ran. */
export class StepRejected extends Error {}
