import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GRPC_PACKAGE, GRPC_WORKER_SERVICE } from '@loom/common';
import { HEALTH_PROTO, PROTO_ROOT, WORKER_PROTO } from './proto-paths.js';
import type {
  InfoRequest,
  InfoResponse,
  ResetRequest,
  ResetResponse,
  StepRequest,
  StepResponse,
  WarmupRequest,
  WarmupResponse,
} from './worker-messages.js';

/** How every Loom process decodes protobufs; worker-messages.ts is written against exactly these. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  includeDirs: [PROTO_ROOT],
};

let cached: { packageDefinition: protoLoader.PackageDefinition; grpcObject: grpc.GrpcObject } | undefined;

function load() {
  cached ??= (() => {
    const packageDefinition = protoLoader.loadSync([WORKER_PROTO, HEALTH_PROTO], LOADER_OPTIONS);
    return { packageDefinition, grpcObject: grpc.loadPackageDefinition(packageDefinition) };
  })();
  return cached;
}

export function packageDefinition(): protoLoader.PackageDefinition {
  return load().packageDefinition;
}

function lookup(dotted: string): grpc.ServiceClientConstructor {
  let node: unknown = load().grpcObject;
  for (const part of dotted.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'function') throw new Error(`gRPC service ${dotted} not found in ${PROTO_ROOT}`);
  return node as grpc.ServiceClientConstructor;
}

export const workerServiceName = `${GRPC_PACKAGE}.${GRPC_WORKER_SERVICE}`;

export function workerServiceDefinition(): grpc.ServiceDefinition {
  return lookup(workerServiceName).service;
}

export function healthServiceDefinition(): grpc.ServiceDefinition {
  return lookup('grpc.health.v1.Health').service;
}

/** Typed client of WorkerService (callback style, as grpc-js generates it). */
export interface WorkerClient extends grpc.Client {
  info(req: InfoRequest, cb: (err: grpc.ServiceError | null, res?: InfoResponse) => void): grpc.ClientUnaryCall;
  info(
    req: InfoRequest,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: InfoResponse) => void,
  ): grpc.ClientUnaryCall;
  warmup(
    req: WarmupRequest,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: WarmupResponse) => void,
  ): grpc.ClientUnaryCall;
  reset(
    req: ResetRequest,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: ResetResponse) => void,
  ): grpc.ClientUnaryCall;
  step(opts?: grpc.CallOptions): grpc.ClientDuplexStream<StepRequest, StepResponse>;
}

export function createWorkerClient(address: string, options: grpc.ClientOptions = {}): WorkerClient {
  const Ctor = lookup(workerServiceName);
  return new Ctor(address, grpc.credentials.createInsecure(), {
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    ...options,
  }) as unknown as WorkerClient;
}

/** Promise wrapper for a unary call on a callback-style client. */
export function unary<Req, Res>(
  call: (req: Req, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown,
  req: Req,
  timeoutMs = 30_000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    call(req, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res as Res)));
  });
}
