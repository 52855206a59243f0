import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repo's `proto/` folder (this file runs from packages/proto/dist). */
export const PROTO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'proto');
export const WORKER_PROTO = 'loom/v1/worker.proto';
export const HEALTH_PROTO = 'grpc/health/v1/health.proto';
