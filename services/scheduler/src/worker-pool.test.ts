import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { configFromEnv, createLogger, DEFAULT_SAMPLING, type OutputEvent, at } from '@loom/common';
import { workerServiceDefinition, type StepRequest, type StepResponse } from '@loom/proto';
import { useRedis, waitFor } from '@loom/testing';
import { tokenizerDataFromGguf, Tokenizer } from '@loom/tokenizer';
import { readGgufMetadata } from '@loom/gguf';
import { OutputLog } from './output-log.js';
import { RequestManager } from './request-manager.js';
import { MAX_WORKER_FAILURES } from './seq-spec.js';
import { SchedulerMetrics } from './scheduler-metrics.js';
import { WorkerPool, type WorkerDiscovery } from './worker-pool.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tokenizer = Tokenizer.fromData(
  tokenizerDataFromGguf(
    readGgufMetadata(path.join(repoRoot, '..', 'shared', 'models', 'stories260K', 'stories260K-f32.gguf')),
  ),
);

/**
 * A RefusingWorker (test double, named as such): a real gRPC WorkerService that warms up and resets
 * like a worker but refuses every step, as a worker would that a request crashes each time.
 */
async function startRefusingWorker(): Promise<{ address: string; steps: () => number; stop(): void }> {
  let steps = 0;
  const server = new grpc.Server();
  server.addService(workerServiceDefinition(), {
    info: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, {
        workerId: 'x',
        modelId: 'm',
        architecture: 'llama',
        vocabSize: 512,
        contextLength: 512,
        eosTokenIds: [2],
        modelCardKey: '',
        capabilities: {},
      }),
    warmup: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, { numBlocks: 64, blockSize: 16, kvBytesPerBlock: 1 }),
    reset: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}),
    step: (call: grpc.ServerDuplexStream<StepRequest, StepResponse>) => {
      call.on('data', (s: StepRequest) => {
        steps += 1;
        call.write({
          stepId: s.stepId,
          sampled: [],
          forwardSeconds: 0,
          error: 'refused',
          promptLogprobs: [],
        } as StepResponse);
      });
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  return { address: `127.0.0.1:${port}`, steps: () => steps, stop: () => server.forceShutdown() };
}

class StaticDiscovery extends EventEmitter implements WorkerDiscovery {
  start(): void {}
  stop(): void {}
}

const redisServer = useRedis();

test(`a request that every worker refuses is failed after ${MAX_WORKER_FAILURES} worker failures, not moved forever`, async () => {
  const redis = redisServer.connect();
  const workers = [await startRefusingWorker(), await startRefusingWorker()];
  const manager = new RequestManager(new OutputLog(redis));
  const discovery = new StaticDiscovery();
  const config = configFromEnv({}, { heartbeatMs: 100, numBlocks: 64, maxNumBatchedTokens: 64, maxNumSeqs: 4 });
  const pool = new WorkerPool(
    discovery,
    config,
    1,
    manager,
    new SchedulerMetrics(),
    createLogger('test', 'silent'),
    () => undefined,
  );
  try {
    workers.forEach((w, i) => discovery.emit('added', `w${i}`, w.address));
    await waitFor(() => pool.workersFor('m').length === 2, { timeoutMs: 5000 });
    const job = {
      requestId: 'poison',
      model: 'm',
      promptTokenIds: tokenizer.encode('Once upon a time'),
      sampling: { ...DEFAULT_SAMPLING },
      n: 1,
      priority: 0,
      acceptedAt: Date.now(),
    };
    const opened = await manager.open(job, { tokenizer, eosTokenIds: [2], contextLength: 512 });
    pool.route(opened!.seqs);
    await opened!.done;
    const events = (await redis.xrange('loom:out:poison', '-', '+')).map(
      ([, f]) => JSON.parse(at(f, 1)) as OutputEvent,
    );
    const last = events.at(-1)!;
    assert.equal(last.type, 'error');
    assert.equal(last.type === 'error' && last.code, 'worker_failures');
    assert.equal(
      at(workers, 0).steps() + at(workers, 1).steps(),
      MAX_WORKER_FAILURES,
      'one refused step per worker failure, then no more',
    );
  } finally {
    pool.close();
    for (const w of workers) w.stop();
  }
});
