/** Nest injection tokens for the values startGateway() provides. */
export const BACKEND = Symbol('InferenceBackend');
export const CONFIG = Symbol('LoomConfig');
export const LOGGER = Symbol('Logger');
export const GATEWAY_OPTIONS = Symbol('GatewayOptions');

/** Tunables of one gateway instance that are not cluster config. */
export interface GatewayOptions {
  /** Idle time before an SSE keep-alive comment (ms). */
  keepAliveMs: number;
  /** Largest request body accepted (bytes); larger → 413. */
  bodyLimit: number;
}
