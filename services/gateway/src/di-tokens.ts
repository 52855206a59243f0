/** Nest injection tokens for the values startGateway() provides. */
export const BACKEND = Symbol('InferenceBackend');
export const CONFIG = Symbol('LoomConfig');
export const LOGGER = Symbol('Logger');
export const GATEWAY_OPTIONS = Symbol('GatewayOptions');
export const KEY_STORE = Symbol('KeyStore');
export const RATE_LIMITER = Symbol('RateLimiter');

/** Tunables of one gateway instance that are not cluster config. */
export interface GatewayOptions {
  /** Idle time before an SSE keep-alive comment (ms). */
  keepAliveMs: number;
  /** Largest request body accepted (bytes); larger → 413. */
  bodyLimit: number;
  /** A request with no output event after this long is cancelled and answered 503 (ms; 0 = never). */
  queueWaitTimeoutMs: number;
}
