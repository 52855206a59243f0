import type * as grpc from '@grpc/grpc-js';

type Status = 'SERVING' | 'NOT_SERVING';

/** grpc.health.v1.Health: Kubernetes' native gRPC probes ask this. */
export function healthHandlers(status: () => Status): grpc.UntypedServiceImplementation {
  return {
    check: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<{ status: Status }>) =>
      cb(null, { status: status() }),
    watch: (call: grpc.ServerWritableStream<unknown, { status: Status }>) => {
      let last: Status | undefined;
      const send = () => {
        const now = status();
        if (now !== last) call.write({ status: (last = now) });
      };
      send();
      const timer = setInterval(send, 1000);
      call.on('cancelled', () => clearInterval(timer));
      call.on('close', () => clearInterval(timer));
    },
  };
}
