/**
 * How `loom up` (and the test harness) talk to the service processes they start: one log event that
 * says "serving", and one env flag that makes a service stop when its supervisor goes away.
 */

/** `msg` of the JSON log line a service process writes once it serves (with `kind`, `url` or `address`). */
export const READY_EVENT = 'service ready';

/** When "1", a service process closes gracefully when its stdin ends, i.e. when its supervisor is gone. */
export const STOP_ON_STDIN_EOF = 'LOOM_STOP_ON_STDIN_EOF';
