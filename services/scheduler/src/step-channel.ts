import type * as grpc from '@grpc/grpc-js';
import type { StepRequest, StepResponse, WorkerClient } from '@loom/proto';

/**
 * The Step bidi stream to one worker, used as request/response: at most one step in flight, its
 * answer matched by step id. Once the stream breaks every later send rejects; the owner then
 * treats the worker as failed.
 */
export class StepChannel {
  private readonly call: grpc.ClientDuplexStream<StepRequest, StepResponse>;
  private pending: { stepId: number; resolve: (r: StepResponse) => void; reject: (e: Error) => void } | undefined;
  private broken: Error | undefined;

  constructor(client: WorkerClient) {
    this.call = client.step();
    this.call.on('data', (res: StepResponse) => {
      const p = this.pending;
      if (p && p.stepId === res.stepId) {
        this.pending = undefined;
        p.resolve(res);
      }
    });
    this.call.on('error', (err: Error) => this.break(err));
    this.call.on('end', () => this.break(new Error('worker closed the step stream')));
  }

  send(step: StepRequest): Promise<StepResponse> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.pending) return Promise.reject(new Error('a step is already in flight'));
    return new Promise((resolve, reject) => {
      this.pending = { stepId: step.stepId, resolve, reject };
      this.call.write(step);
    });
  }

  close(): void {
    this.break(new Error('step channel closed'));
    this.call.cancel();
  }

  private break(err: Error): void {
    this.broken ??= err;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(this.broken);
  }
}
